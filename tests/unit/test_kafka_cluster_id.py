"""The KRaft cluster id the launcher formats Kafka's storage with."""

import base64
import uuid

from tools.stack import kafka


def test_cluster_id_is_a_base64url_encoded_16_byte_id():
    decoded = base64.urlsafe_b64decode(kafka.cluster_id() + "==")
    assert len(decoded) == 16


def test_cluster_id_never_starts_with_a_dash(monkeypatch):
    # 0xF8 as the first byte encodes to "-" first: the storage tool would read it as an option.
    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=b"\x10" + bytes(15))
    drawn = iter([dashed, plain])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(drawn))

    assert base64.urlsafe_b64encode(dashed.bytes).decode().startswith("-")
    assert kafka.cluster_id() == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")

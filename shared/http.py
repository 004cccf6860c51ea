"""FastAPI dependencies shared by every service's routes."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


Sessions = Annotated[sessionmaker[Session], Depends(_sessions)]

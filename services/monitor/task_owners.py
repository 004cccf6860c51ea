"""Who may see, claim, release and complete a user task: its candidates (groups and users) and its assignee.

Plain rules on plain values: the API hands in the caller and the task as the projection has them, and turns a
refusal into its HTTP answer (403 for who the caller is, 409 for the task's state).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class NotACandidate(Exception):
    """The caller is in none of the task's candidate groups and not one of its candidate users."""


class AssignedToAnother(Exception):
    """Someone else claimed the task: only they complete or release it."""


class NotAssigned(Exception):
    """Nobody claimed the task, so there is nothing to release."""


@dataclass(frozen=True)
class Person:
    """Who is asking: their username (what a claim puts in the task's assignee), their groups, and whether they
    are an operator (who sees every task and may release a candidate group's task someone else claimed)."""

    username: str
    groups: frozenset[str]
    operator: bool = False


@dataclass(frozen=True)
class TaskPeople:
    """A task's people, as the engine's records told the monitor."""

    key: int
    assignee: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]

    @classmethod
    def of(cls, key: int, assignee: str | None, groups: Iterable[str] | None, users: Iterable[str] | None
           ) -> TaskPeople:
        return cls(key, assignee or None, tuple(groups or ()), tuple(users or ()))


def is_candidate(task: TaskPeople, person: Person) -> bool:
    """One of the task's candidate users, or in one of its groups; a task that names no candidate is operators'."""
    if not task.candidate_groups and not task.candidate_users:
        return person.operator
    return person.username in task.candidate_users or bool(person.groups & set(task.candidate_groups))


def may_see(task: TaskPeople, person: Person) -> bool:
    return person.operator or is_candidate(task, person) or task.assignee == person.username


def check_see(task: TaskPeople, person: Person) -> None:
    if not may_see(task, person):
        _check_candidate(task, person, "see")


def check_claim(task: TaskPeople, person: Person) -> bool:
    """Whether the claim is still to be made (False: the task is the person's already)."""
    _check_candidate(task, person, "claim")
    if task.assignee == person.username:
        return False
    if task.assignee is not None:
        raise AssignedToAnother(f"user task {task.key} is already claimed by {task.assignee}; they release it "
                                f"first (`fulfil --as {task.assignee} task release {task.key}`)")
    return True


def check_release(task: TaskPeople, person: Person) -> None:
    """The assignee releases their claim; an operator among the candidates may release anyone's (someone away)."""
    if task.assignee is None:
        raise NotAssigned(f"user task {task.key} is not claimed by anyone, so there is nothing to release")
    if task.assignee == person.username:
        return
    _check_candidate(task, person, "release")
    if not person.operator:
        raise AssignedToAnother(f"user task {task.key} is claimed by {task.assignee}: only they, or an operator "
                                f"among its candidates, may release it")


def check_complete(task: TaskPeople, person: Person) -> None:
    """A candidate completes an unclaimed task, or their own; a task someone else claimed only they complete."""
    _check_candidate(task, person, "complete")
    if task.assignee is not None and task.assignee != person.username:
        raise AssignedToAnother(f"user task {task.key} is claimed by {task.assignee}: only they may complete it. "
                                f"They release it (`fulfil --as {task.assignee} task release {task.key}`), then "
                                f"claim it yourself (`fulfil task claim {task.key}`)")


def _check_candidate(task: TaskPeople, person: Person, action: str) -> None:
    if is_candidate(task, person):
        return
    named = [f"members of the group {' or '.join(task.candidate_groups)}"] if task.candidate_groups else []
    named += [f"the user {' or '.join(task.candidate_users)}"] if task.candidate_users else []
    who = " and ".join(named) or "operators (it names no candidate)"
    groups = ", ".join(sorted(person.groups)) or "no group"
    raise NotACandidate(f"only {who} may {action} user task {task.key}; {person.username} is in {groups}. "
                        "An administrator adds a user to a group in Keycloak's admin console (realm fulfilment)")

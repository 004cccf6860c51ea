"""Who may claim, release and complete a user task, given the caller's groups and the task's candidates and assignee."""
import pytest

from services.monitor.task_owners import (
    AssignedToAnother,
    NotACandidate,
    NotAssigned,
    Person,
    TaskPeople,
    check_claim,
    check_complete,
    check_release,
    check_see,
    may_see,
)
from shared.contracts.roles import FULFILMENT_REVIEWERS, FULFILMENT_TEAM

OPERATOR = Person("demo-operator", frozenset({FULFILMENT_TEAM}), operator=True)
REVIEWER = Person("demo-reviewer", frozenset({FULFILMENT_REVIEWERS}))
TEAMMATE = Person("teammate", frozenset({FULFILMENT_TEAM}))
OUTSIDER_OPERATOR = Person("night-operator", frozenset(), operator=True)
CUSTOMER = Person("demo-alice", frozenset())


def team_task(assignee: str | None = None) -> TaskPeople:
    return TaskPeople.of(7, assignee, [FULFILMENT_TEAM], [])


def test_a_member_of_a_candidate_group_claims_and_completes_an_unclaimed_task():
    assert check_claim(team_task(), TEAMMATE) is True
    check_complete(team_task(), TEAMMATE)


@pytest.mark.parametrize("who", [REVIEWER, CUSTOMER, OUTSIDER_OPERATOR])
def test_anyone_outside_the_candidate_groups_may_neither_claim_nor_complete_and_is_told_the_group(who):
    for check in (check_claim, check_complete):
        with pytest.raises(NotACandidate, match=f"only members of the group {FULFILMENT_TEAM} may"):
            check(team_task(), who)


def test_a_candidate_user_counts_as_a_candidate_without_the_group():
    task = TaskPeople.of(8, None, [FULFILMENT_REVIEWERS], ["teammate"])
    assert check_claim(task, TEAMMATE) is True
    with pytest.raises(NotACandidate, match="members of the group fulfilment-reviewers and the user teammate"):
        check_complete(task, CUSTOMER)


def test_a_task_claimed_by_someone_else_is_completed_only_by_them():
    with pytest.raises(AssignedToAnother, match="claimed by teammate: only they may complete it"):
        check_complete(team_task("teammate"), OPERATOR)
    check_complete(team_task("teammate"), TEAMMATE)


def test_a_task_claimed_by_someone_else_cannot_be_claimed_and_ones_own_claim_is_no_new_claim():
    with pytest.raises(AssignedToAnother, match="already claimed by teammate"):
        check_claim(team_task("teammate"), OPERATOR)
    assert check_claim(team_task("teammate"), TEAMMATE) is False


def test_the_assignee_releases_a_claim_and_so_may_an_operator_among_the_candidates_but_no_other_member():
    check_release(team_task("teammate"), TEAMMATE)
    check_release(team_task("teammate"), OPERATOR)
    with pytest.raises(AssignedToAnother, match="only they, or an operator among its candidates"):
        check_release(team_task("demo-operator"), TEAMMATE)
    with pytest.raises(NotACandidate):
        check_release(team_task("teammate"), OUTSIDER_OPERATOR)
    with pytest.raises(NotAssigned, match="not claimed by anyone"):
        check_release(team_task(), TEAMMATE)


def test_operators_see_every_task_members_their_groups_and_a_task_without_candidates_is_operators():
    review = TaskPeople.of(9, None, [FULFILMENT_REVIEWERS], [])
    assert may_see(review, OUTSIDER_OPERATOR) and may_see(review, REVIEWER)
    assert not may_see(team_task(), REVIEWER) and not may_see(review, CUSTOMER)
    nobody_named = TaskPeople.of(10, None, [], [])
    assert check_claim(nobody_named, OUTSIDER_OPERATOR) is True
    with pytest.raises(NotACandidate, match="only operators"):
        check_claim(nobody_named, TEAMMATE)


def test_seeing_a_task_of_another_group_is_refused_naming_that_group():
    with pytest.raises(NotACandidate, match=f"only members of the group {FULFILMENT_TEAM} may see user task 7"):
        check_see(team_task(), REVIEWER)
    check_see(team_task(), OUTSIDER_OPERATOR)

"""Schemathesis fuzzing of every operation in our own OpenAPI, as every kind of caller, one
request at a time and in stateful sequences that follow the document's links.

Checks on every response (``tests/reliability/fuzzing.py`` says how the app is run):

* ``not_a_server_error``: never a 5xx;
* ``status_code_conformance``, ``response_schema_conformance``, ``content_type_conformance``:
  the status is documented for the operation and the body matches what the OpenAPI documents
  for it (problems included);
* ``ignored_auth`` (schemathesis'): a secured operation that answers 2xx is sent again without
  credentials and with forged ones, and must refuse both; and ours, stricter: a secured operation
  answers 401 to a caller without credentials or with a garbage token, whatever the request;
* in the stateful phase, ``object_level_authorization`` (schemathesis'): what one enterprise or
  provider created and then read is read again as the other enterprise and providers, who must
  not get it; ``use_after_free`` and ``ensure_resource_availability`` on the links' resources.

Budget: ``VOUCHER_FUZZ_EXAMPLES`` examples per operation and caller, and as many stateful
scenarios (of up to 25 steps) per 20 operations (CI: 2, fixed seeds); the release run sets it to
100 or more (random seeds), see docs/RELIABILITY.md. Routes added later are fuzzed without
editing this file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    object_level_authorization,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from schemathesis.wfc.escalation import EscalatingAuthProvider, record_auth_outcome

from tests.reliability.fuzzing import (
    ANONYMOUS,
    DERANDOMIZE,
    EXAMPLES,
    Findings,
    World,
    fuzz_settings,
    running_world,
)
from voucher_service.settings import Settings

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    ignored_auth,
]
STATEFUL_CHECKS = [
    *CHECKS,
    object_level_authorization,
    use_after_free,
    ensure_resource_availability,
]
# Ending the caller's own session would blind the rest of the run; these are fuzzed anonymously.
SESSION_ENDING = {"POST /v1/auth/logout", "POST /v1/auth/password"}
# Stateful identities, tried in this order for each operation until one is let in (schemathesis'
# escalation); the peers own objects the others must not see.
IDENTITIES = (
    "enterprise_owner",
    "provider_client",
    "provider_operator",
    "program_admin",
    "reviewer",
    "finance",
    "auditor",
    "sysadmin",
    "other_enterprise_owner",
)
PEERS = ("enterprise_owner", "provider_client", "provider_operator", "other_enterprise_owner")


@pytest.fixture
def world(backend: str, request: pytest.FixtureRequest) -> Iterator[World]:
    if backend != "sqlite":  # before ``settings`` makes a PostgreSQL database
        pytest.skip("fuzzed on SQLite: the budget is requests, not backends")
    settings: Settings = request.getfixturevalue("settings")
    yield from running_world(fuzz_settings(settings))


def _secured(operation: APIOperation) -> bool:
    return bool(operation.definition.raw.get("security"))


def _fuzz(world: World, operation: APIOperation, findings: Findings) -> None:
    """Generated requests for ``operation``, each sent once as every caller."""
    callers = [
        caller
        for caller in world.callers
        if caller in ANONYMOUS or operation.label not in SESSION_ENDING
    ]
    names = [p.name for p in operation.path_parameters]
    known = {name: world.known_ids[name] for name in names if name in world.known_ids}
    strategies = [operation.as_strategy()]
    if known:
        strategies.append(operation.as_strategy(path_parameters=known))
    for strategy in strategies:

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=DERANDOMIZE,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Case) -> None:
            for caller in callers:
                _check(world, operation, case, caller, findings)

        run()


def _check(
    world: World, operation: APIOperation, case: Case, caller: str, findings: Findings
) -> None:
    headers = world.callers[caller]
    response = case.call(headers=headers)
    findings.cases += 1
    label = f"{operation.label} as {caller}"
    if caller in ANONYMOUS and _secured(operation) and response.status_code != 401:
        findings.add(f"{label}: not refused", AssertionError(f"{response.status_code}"))
    try:
        case.validate_response(
            response, checks=CHECKS, headers=headers, transport_kwargs={"headers": headers}
        )
    except (Exception, BaseExceptionGroup) as failure:  # a group of failed checks
        findings.add(f"{label}: {type(failure).__name__}", failure)


def test_every_operation_as_every_caller(world: World) -> None:
    schema = world.schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    findings = Findings()
    for operation in operations:
        _fuzz(world, operation, findings)
    print(f"fuzz: {len(operations)} operations, {findings.cases} cases")
    assert not findings.failures, f"{len(findings.failures)} findings:\n{findings.report()}"


class Bearer:
    """An identity's credentials, as a schemathesis auth provider."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def get(self, _case: Case, _context: Any) -> dict[str, str]:
        return self.headers

    def set(self, case: Case, data: dict[str, str], _context: Any) -> None:
        case.headers = {**(case.headers or {}), **data}


def _stateful_schema(world: World) -> BaseSchema:
    schema = world.schema()
    providers = [Bearer(world.callers[name]) for name in IDENTITIES]
    schema.auth.providers.append(
        EscalatingAuthProvider(providers, list(IDENTITIES), peers=PEERS)  # type: ignore[arg-type]
    )
    return schema


def _machine(schema: BaseSchema, findings: Findings) -> type[Any]:
    """schemathesis' state machine for ``schema``: each operation as the identity it settled
    on, every response checked with STATEFUL_CHECKS, failures collected, not raised."""
    base: Any = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def step(self, input: StepInput) -> StepOutput:
            findings.linked += input.transition is not None and input.is_applied
            return super().step(input)  # type: ignore[no-any-return]

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            record_auth_outcome(case, response.status_code)
            findings.cases += 1
            parent = self.recorder.find_parent(case_id=case.id)
            findings.owner_reads += (
                case.method == "GET"
                and 200 <= response.status_code < 300
                and case.auth_identity in PEERS
                and parent is not None
                and parent.auth_identity == case.auth_identity
            )

        def validate_response(
            self,
            response: Response,
            case: Case,
            additional_checks: Any = None,  # noqa: ARG002 - ours are STATEFUL_CHECKS
            **kwargs: Any,
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=STATEFUL_CHECKS,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as failure:
                label = f"{case.operation.label} as {case.auth_identity}"
                findings.add(f"{label}: stateful {type(failure).__name__}", failure)

        def teardown(self) -> None:
            findings.scenarios += 1
            super().teardown()

    return Machine


def test_stateful_sequences_along_the_links(world: World) -> None:
    schema = _stateful_schema(world)
    findings = Findings()
    machine = _machine(schema, findings)
    operations = sum(1 for _ in schema.get_all_operations())
    wanted = max(1, EXAMPLES * operations // 20)
    per_suite = hypothesis_settings(
        max_examples=min(wanted, 10),
        stateful_step_count=25,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    suites = 0
    # The app's state outlives a scenario, so Hypothesis may find a replay inconsistent (Flaky):
    # that ends a suite, and the next starts from another seed (fixed in CI, random above 10).
    while findings.scenarios < wanted and suites < wanted:
        seed = suites if DERANDOMIZE else random.getrandbits(64)
        suites += 1
        try:
            run_state_machine_as_test(hypothesis.seed(seed)(machine), settings=per_suite)
        except Flaky:
            continue
    transitions = schema.statistic.transitions.total
    print(
        f"stateful: {transitions} links, {suites} suites, {findings.scenarios} scenarios, "
        f"{findings.cases} requests, {findings.linked} through links, "
        f"{findings.owner_reads} owner reads probed for object-level authorisation"
    )
    assert findings.scenarios >= wanted
    assert not findings.failures, f"{len(findings.failures)} findings:\n{findings.report()}"


def test_the_auth_checks_catch_an_operation_that_ignores_its_security(world: World) -> None:
    """The wiring can fail: an operation documented as secured that answers anyone is found by
    schemathesis' ``ignored_auth`` (for a caller with credentials) and by our rule."""

    async def unguarded() -> dict[str, bool]:
        return {"ok": True}

    world.app.router.add_api_route(
        "/test/unguarded", unguarded, openapi_extra={"security": [{"oauth2": []}]}
    )
    world.app.openapi_schema = None
    operation = world.schema()["/test/unguarded"]["GET"]
    findings = Findings()
    for caller in ("enterprise_owner", "anonymous"):
        _check(world, operation, operation.Case(), caller, findings)
    assert (
        "IgnoredAuth" in findings.failures["GET /test/unguarded as enterprise_owner: FailureGroup"]
    )
    assert "GET /test/unguarded as anonymous: not refused" in findings.failures

"""A FindingCriteria as ListFindings, GetFindings' callers, GetFindingsStatistics
and ArchiveFindings read it: the emulator (guardduty_findings.py) and the
bench's stand-in (bench/standin.py) both compile criteria here, so they answer
a criterion alike. Pure: no moto, no state."""

from typing import Any, Callable

MAX_VALUES = 50           # values in an eq/neq condition
STRING, NUMBER, TIME, BOOL = "string", "number", "time", "bool"
OPERATORS = {"eq": "eq", "equals": "eq", "neq": "neq", "notEquals": "neq",
             "gt": "gt", "greaterThan": "gt", "gte": "gte", "greaterThanOrEqual": "gte",
             "lt": "lt", "lessThan": "lt", "lte": "lte", "lessThanOrEqual": "lte"}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}

Test = Callable[[list[Any]], bool]


def operand(field: str, kind: str, value: Any, error: type[Exception]) -> Any:
    """A value of an eq/neq condition (a string) as the field's kind compares it."""
    if not isinstance(value, str):
        raise error(f"The request is rejected because the values of the condition on {field} must be strings.")
    try:
        if kind == TIME:
            return int(value)
        if kind == NUMBER:
            return float(value)
    except ValueError:
        raise error(f"The request is rejected because {value!r} is not a number, as {field} needs.") from None
    if kind == BOOL:
        if value.lower() not in ("true", "false"):
            raise error(f"The request is rejected because {value!r} is not true or false, as {field} needs.")
        return value.lower() == "true"
    return value


def compile_criteria(criteria: Any, fields: dict[str, str], error: type[Exception],
                     unknown: Callable[[str], str]) -> list[tuple[str, Test]]:
    """(field, test) pairs a finding must all pass, each test on the field's
    values in the finding; a bad criterion is refused at once (`unknown`
    words the refusal of a field not in `fields`)."""
    if criteria is None:
        return []
    if not isinstance(criteria, dict) or not isinstance(criteria.get("criterion", {}), dict):
        raise error("The request is rejected because the findingCriteria is not valid.")
    tests: list[tuple[str, Test]] = []
    for field, condition in (criteria.get("criterion") or {}).items():
        kind = fields.get(field)
        if kind is None:
            raise error(unknown(field))
        if not isinstance(condition, dict) or not condition:
            raise error(f"The request is rejected because the condition on {field} is empty.")
        for name, value in condition.items():
            if name in ("matches", "notMatches"):
                raise error(f"The request is rejected because the {name} condition is available only for "
                            "CreateFilter and UpdateFilter.")
            op = OPERATORS.get(name)
            if op is None:
                raise error(f"The request is rejected because {name!r} is not a valid condition.")
            if op in ("eq", "neq"):
                if not isinstance(value, list):
                    raise error(f"The request is rejected because the {name} condition on {field} "
                                "must be a list of strings.")
                if len(value) > MAX_VALUES:
                    raise error(f"The request is rejected because the {name} condition on {field} has "
                                f"more than {MAX_VALUES} values.")
                wanted = [operand(field, kind, v, error) for v in value]
                tests.append((field, lambda vs, wanted=wanted, want=op == "eq":
                              any(v in wanted for v in vs) == want))
            else:
                if kind not in (NUMBER, TIME):
                    raise error(f"The request is rejected because the {name} condition needs a numeric "
                                f"field, which {field} is not.")
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise error(f"The request is rejected because the {name} condition on {field} "
                                "must be a number.")
                tests.append((field, lambda vs, compare=COMPARE[op], bound=value:
                              any(compare(v, bound) for v in vs)))
    return tests

"""GuardDuty's settings a settings file converges -- suppression rules (filters),
trusted IP sets, threat intel sets and the findings export (publishing
destinations) -- as the API reference has them, on moto's own backend.

moto 5.2.5 answers ListFilters with an error, lets a second CreateFilter of a
name overwrite the first and never checks a rank; it has no IP sets, threat
intel sets or publishing destinations. This module replaces its filter handling
and adds the rest:

  CreateFilter                   POST   /detector/{detectorId}/filter
  ListFilters                    GET    /detector/{detectorId}/filter
  GetFilter                      GET    /detector/{detectorId}/filter/{filterName}
  UpdateFilter                   POST   /detector/{detectorId}/filter/{filterName}
  DeleteFilter                   DELETE /detector/{detectorId}/filter/{filterName}
  CreateIPSet                    POST   /detector/{detectorId}/ipset
  ListIPSets                     GET    /detector/{detectorId}/ipset
  GetIPSet                       GET    /detector/{detectorId}/ipset/{ipSetId}
  UpdateIPSet                    POST   /detector/{detectorId}/ipset/{ipSetId}
  DeleteIPSet                    DELETE /detector/{detectorId}/ipset/{ipSetId}
  CreateThreatIntelSet           POST   /detector/{detectorId}/threatintelset
  ListThreatIntelSets            GET    /detector/{detectorId}/threatintelset
  GetThreatIntelSet              GET    /detector/{detectorId}/threatintelset/{threatIntelSetId}
  UpdateThreatIntelSet           POST   /detector/{detectorId}/threatintelset/{threatIntelSetId}
  DeleteThreatIntelSet           DELETE /detector/{detectorId}/threatintelset/{threatIntelSetId}
  CreatePublishingDestination    POST   /detector/{detectorId}/publishingDestination
  ListPublishingDestinations     GET    /detector/{detectorId}/publishingDestination
  DescribePublishingDestination  GET    /detector/{detectorId}/publishingDestination/{destinationId}
  UpdatePublishingDestination    POST   /detector/{detectorId}/publishingDestination/{destinationId}
  DeletePublishingDestination    DELETE /detector/{detectorId}/publishingDestination/{destinationId}

A test hook, clearly not AWS's (no such path exists in the GuardDuty API),
sent with any GuardDuty credential scope in the Authorization header (moto
routes by it; nothing checks the signature):

  POST /__gdctl/destination-status {"accountId": ID, "region": R,
                                    "status": "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY",
                                    "failureStartedHoursAgo": 5}     (optional, default 0)
       -> 200 {"destinationId", "status", "publishingFailureStartTimestamp"}:
          sets the status of the account's (only) publishing destination in the
          region, as GuardDuty would on finding the bucket or key unusable.
          publishingFailureStartTimestamp is now - failureStartedHoursAgo for
          UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY and 0 otherwise
          (failureStartedHoursAgo is refused with another status); 400
          {"message"} when the request is malformed, the status is not one of
          PENDING_VERIFICATION, PUBLISHING, UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY,
          STOPPED, or the account has no detector or no destination there.

Whether a run wrote anything is for scripts/front.py to say: its GET
/__front/stats lists every GuardDuty request it passed on as `METHOD /path`.

Filters. A name is 3-64 of A-Z a-z 0-9 _ . -; action NOOP (the default) or
ARCHIVE; a description at most 512 of the characters the reference allows.
Ranks are contiguous from 1: CreateFilter takes rank 1..count+1 (none: last),
UpdateFilter 1..count, and a filter created or moved to rank r takes that place,
the others shifting; DeleteFilter closes the gap. At most 100 filters a
detector (the quota), 50 fields in a findingCriteria, 50 values in an
eq/neq/equals/notEquals and 5 (of 1-512 characters) in a matches/notMatches (the
reference's). The fields are those the reference lists for CreateFilter (read
from botocore's GuardDuty model, from which the reference is generated, with
guardduty_findings.py's table for the kinds it knows). A findingCriteria is kept
in its long form: eq, neq, gt, gte, lt, lte are stored and returned as equals,
notEquals, greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual (a short
and a long key on one field must agree). Filters only record: ARCHIVE does not
archive findings here. GetFilter also answers createdAt and updatedAt (epoch
seconds) and version (1, plus one per UpdateFilter), as the model now has them.

IP sets (trusted IP lists) and threat intel sets: at most 1 and 6 a detector
(the quotas); a name of 1-300 of A-Z a-z 0-9, whitespace, - and _, unique
among the account-region's IP sets and threat intel sets (the user guide); a
location in one of the user guide's forms (https://s3.amazonaws.com/bucket/key,
https://s3-REGION.amazonaws.com/bucket/key, http(s)://bucket.s3.amazonaws.com/key,
http(s)://bucket.s3-REGION.amazonaws.com/key, s3://bucket/key; `.REGION` for
`-REGION` too). activate true answers ACTIVE at once (AWS passes through
ACTIVATING while it reads the file), false INACTIVE; Update changes name,
location, activate and expectedBucketOwner (the API has no format there: a
format in the body is ignored, as unknown members are); a Delete removes the
set at once (AWS passes through DELETE_PENDING and DELETED). Only the region's
delegated administrator or an account outside an organization may write them:
an enabled member is refused (guardduty_org.py's state).

Publishing destinations: at most 1 a detector; destinationType S3;
destinationProperties destinationArn arn:PARTITION:s3:::bucket[/prefix] and
kmsKeyArn arn:PARTITION:kms:REGION:ACCOUNT:key/ID (the region's partition),
expectedBucketOwner optional. Created PUBLISHING at once (AWS may first answer
PENDING_VERIFICATION); publishingFailureStartTimestamp is epoch milliseconds,
0 while publishing. Update merges the given properties and, the destination
being checked again, answers PUBLISHING with no failure time.

Every create honours its clientToken as AWS does (the Rust SDK fills one in):
a create repeated with a token already used answers what the first did and
changes nothing. Lists page by maxResults (1-50, default 50) and an opaque
nextToken; filters come in rank order, the others in creation order. Errors are
GuardDuty's restJson BadRequestException (guardduty_org.BadRequest), with AWS's
own words where AWS or its users' code shows them (listed in MESSAGES); a wrong
detector is moto's own error, as in guardduty_findings.py. State is kept per
detector on moto's GuardDutyBackend of the account and region.

`install()` must run before moto's server app is created.
"""
import json
import re
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import unquote

from botocore.session import get_session
from moto.guardduty import urls
from moto.guardduty.models import GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.utilities.utils import get_partition

import guardduty_findings
from guardduty_findings import BOOL, NUMBER, STRING, TIME, administrator_of
from guardduty_org import BadRequest

MAX_FILTERS = 100             # filters a detector (the quotas page)
MAX_CRITERIA = 50             # fields in a findingCriteria (the user guide)
MAX_VALUES = 50               # values in an eq/neq/equals/notEquals (API_Condition)
MAX_MATCHES, MAX_MATCH_CHARS = 5, 512  # values in a matches/notMatches, and their length
MAX_RESULTS = 50
QUOTA = {"ipset": 1, "threatintelset": 6}  # "trusted IP sets" and "threat intel sets" a Region
FORMATS = ("TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT", "FIRE_EYE")
ACTIONS = ("NOOP", "ARCHIVE")
PUBLISHING_STATUSES = ("PENDING_VERIFICATION", "PUBLISHING", "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY", "STOPPED")
FAILING = "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"

# AWS's words. "seen": in AWS's answers, as its users' code or reports quote
# them; "reference": in the API reference's error tables (its earlier edition,
# put in the "rejected because" wording AWS answers with); "recorded": as
# another emulator records AWS's answers, unconfirmed; "ours": the emulator's,
# in AWS's manner, where no source gives the text.
MESSAGES = {
    "json": "The request is rejected because the JSON could not be processed.",  # seen (a comma in a description)
    "invalid": "The request is rejected because the parameter {} has an invalid value.",  # reference; seen (detectorId)
    "out_of_bounds": "The request is rejected because the parameter {} is out-of-bounds.",  # seen (rank); reference
    "no_such_resource": "The request is rejected since no such resource found.",  # seen (filters, IP sets)
    "filter_exists": "The request is rejected because a filter with the given name already exists.",  # reference
    "filter_limit": "The request is rejected because filter limit has exceeded.",  # reference
    "list_limit": ("The request is rejected because it\u2019s an attempt to create resources beyond the current "
                   "AWS account limits."),  # recorded
    "list_exists": "The request is rejected because a list with the given name already exists.",  # ours
    # seen (GuardDuty refusing a member); the reference's older text for the lists was
    # "The request is rejected. Member accounts cannot manage IPSets or ThreatIntelSets."
    "member": "The request is rejected because member accounts cannot manage specified resources or properties.",
    "destination_exists": ("The request failed because a publishingDestination already exists with the "
                           "destinationType value provided in the request."),  # seen
    "no_destination": "The request is rejected because the one or more input parameters have invalid values.",  # seen
    "no_type": "The request failed because no destinationType parameter was included in the request.",  # recorded
    "no_properties": ("The request failed because no destinationProperties parameter was included in the "
                      "request."),  # recorded
    "out_of_range": ("The request is rejected because an invalid or out-of-range value is specified as an input "
                     "parameter."),  # reference
}

FILTER_NAME = re.compile(r"[A-Za-z0-9_.-]{3,64}", re.ASCII)
# The reference's: alphanumerics, - . : _ ( ) { } [ ] / and whitespace.
FILTER_DESCRIPTION = re.compile(r"[A-Za-z0-9 .:_{}\[\]()/\t\n\v\f\r-]{0,512}", re.ASCII)
LIST_NAME = re.compile(r"[A-Za-z0-9_\s-]{1,300}", re.ASCII)
BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
S3_LOCATION = re.compile(
    rf"s3://{BUCKET}/.+"
    rf"|https?://s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?/{BUCKET}/.+"
    rf"|https?://{BUCKET}\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?/.+", re.ASCII)
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
TAG_KEY = re.compile(r"(?!aws:)[a-zA-Z+-=._:/]{1,128}")  # the model's pattern, ranges and all
INT32, INT64 = 2**31, 2**63

# Short operator -> long, in the order a condition is written back.
LONG = {"eq": "equals", "neq": "notEquals", "gt": "greaterThan", "gte": "greaterThanOrEqual",
        "lt": "lessThan", "lte": "lessThanOrEqual"}
LONG_ORDER = ("equals", "notEquals", "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual",
              "matches", "notMatches")
LISTS = {"equals", "notEquals"}
MATCHES = {"matches", "notMatches"}

lock = threading.RLock()
_fields: dict[str, str | None] = {}


def filter_fields() -> dict[str, str | None]:
    """The fields a filter may name -- the reference's list for CreateFilter -- with
    the kind their values compare as, where known (None: strings, not checked)."""
    if not _fields:
        doc = (get_session().get_service_model("guardduty").operation_model("CreateFilter")
               .input_shape.members["FindingCriteria"].documentation)
        listed = re.findall(r"<li>\s*<p>\s*([A-Za-z0-9_.]+)\s*</p>(\s*<p>\s*Type: Timestamp)?", doc)
        if len(listed) < 100:
            raise RuntimeError("botocore's GuardDuty model no longer lists the fields of a filter as expected")
        for name, timestamp in listed:
            _fields[name] = TIME if timestamp else None
        _fields.update(guardduty_findings.FIELDS)
    return _fields


# --- state ------------------------------------------------------------------------

def settings_state(b: GuardDutyBackend, detector_id: str) -> dict[str, Any]:
    """One detector's filters (in rank order), lists, destinations and create tokens."""
    if not hasattr(b, "gdctl_settings"):
        b.gdctl_settings = {}
    return b.gdctl_settings.setdefault(detector_id, {
        "filters": [], "ipset": {}, "threatintelset": {}, "destinations": {}, "tokens": {}})


def one_at_a_time(method: Callable) -> Callable:
    """The operations run one at a time: ranks shift together, quotas hold."""
    def run(self, *args: Any) -> str:
        with lock:
            return method(self, *args)
    run.__name__ = method.__name__
    return run


def detector_state(resp, index: int) -> tuple[str, dict[str, Any]]:
    """The detector named at path segment `index` (the caller's own, or moto's error) and its state."""
    detector_id = resp.path.split("/")[index]
    b = guardduty_backends[resp.current_account][resp.region]
    b.get_detector(detector_id)  # moto's own error if not the caller's
    return detector_id, settings_state(b, detector_id)


def replayed(state: dict[str, Any], op: str, token: Any) -> str | None:
    """The first answer to a create whose clientToken was used before."""
    if token is None:
        return None
    if not isinstance(token, str) or len(token) > 64:
        raise BadRequest(MESSAGES["invalid"].format("clientToken"))
    return state["tokens"].get((op, token))


def remember(state: dict[str, Any], op: str, token: str | None, answer: str) -> str:
    if token is not None:
        state["tokens"][(op, token)] = answer
    return answer


# --- parameters ---------------------------------------------------------------------

def text(resp, name: str, required: bool = False) -> str | None:
    value = resp._get_param(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(MESSAGES["json"])
    return value


def boolean(resp, name: str, required: bool = False) -> bool | None:
    value = resp._get_param(name)
    if value is None and not required:
        return None
    if not isinstance(value, bool):
        raise BadRequest(MESSAGES["json"])
    return value


def tags_of(resp) -> dict[str, str]:
    tags = resp._get_param("tags")
    if tags is None:
        return {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise BadRequest(MESSAGES["json"])
    if not 1 <= len(tags) <= 200 or any(not TAG_KEY.fullmatch(k) or len(v) > 256 for k, v in tags.items()):
        raise BadRequest(MESSAGES["invalid"].format("tags"))
    return dict(tags)


def owner_of(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(MESSAGES["json"])
    if not ACCOUNT_ID.fullmatch(value):
        raise BadRequest(MESSAGES["invalid"].format("expectedBucketOwner"))
    return value


def page(resp, rows: list) -> tuple[list, str | None]:
    """maxResults (1-50, default 50) and nextToken (an offset), from the query string."""
    size = resp._get_param("maxResults")
    if size is None:
        size = MAX_RESULTS
    else:
        try:
            size = int(size)
        except (TypeError, ValueError):
            raise BadRequest(MESSAGES["invalid"].format("maxResults")) from None
        if not 1 <= size <= MAX_RESULTS:
            raise BadRequest(MESSAGES["out_of_bounds"].format("maxResults"))
    token = resp._get_param("nextToken") or "0"
    if not isinstance(token, str) or not token.isdigit():
        raise BadRequest(MESSAGES["invalid"].format("nextToken"))
    start = int(token)
    return rows[start:start + size], (str(start + size) if start + size < len(rows) else None)


def listed(key: str, rows: list, token: str | None) -> str:
    out: dict[str, Any] = {key: rows}
    if token is not None:
        out["nextToken"] = token
    return json.dumps(out)


# --- finding criteria ------------------------------------------------------------------

def integer(value: Any, bound: int) -> int:
    """A gt/gte/lt/lte: an Integer (short keys) or a Long (long keys) of the model."""
    if isinstance(value, bool) or not isinstance(value, int) or not -bound <= value < bound:
        raise BadRequest(MESSAGES["json"])
    return value


def normal_criteria(criteria: Any) -> dict[str, Any]:
    """A findingCriteria checked and in its long form: {"criterion": {field: {"equals": [...], ...}}}."""
    if not isinstance(criteria, dict) or not isinstance(criteria.get("criterion"), dict):
        raise BadRequest(MESSAGES["invalid"].format("findingCriteria"))
    criterion = criteria["criterion"]
    if not criterion:
        raise BadRequest(MESSAGES["invalid"].format("findingCriteria"))
    if len(criterion) > MAX_CRITERIA:
        raise BadRequest(f"The request is rejected because the findingCriteria names more than {MAX_CRITERIA} "
                         "fields.")
    fields = filter_fields()
    out: dict[str, dict[str, Any]] = {}
    for field, condition in criterion.items():
        if field not in fields:
            raise BadRequest(f"The request is rejected because {field!r} is not a valid finding criterion field.")
        kind = fields[field]
        if not isinstance(condition, dict):
            raise BadRequest(MESSAGES["json"])
        if not condition:
            raise BadRequest(f"The request is rejected because the condition on {field} is empty.")
        long: dict[str, Any] = {}
        for name, value in condition.items():
            key = LONG.get(name, name)
            if key not in LONG_ORDER:
                raise BadRequest(f"The request is rejected because {name!r} is not a valid condition.")
            if key in LISTS or key in MATCHES:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise BadRequest(MESSAGES["json"])
                if key in LISTS and len(value) > MAX_VALUES:
                    raise BadRequest(f"The request is rejected because the {name} condition on {field} has more "
                                     f"than {MAX_VALUES} values.")
                if key in MATCHES and (len(value) > MAX_MATCHES
                                       or any(not 1 <= len(v) <= MAX_MATCH_CHARS for v in value)):
                    raise BadRequest(f"The request is rejected because the {name} condition on {field} takes at "
                                     f"most {MAX_MATCHES} values of 1 to {MAX_MATCH_CHARS} characters.")
                if key in LISTS and kind in (NUMBER, TIME, BOOL):
                    for v in value:
                        guardduty_findings.operand(field, kind, v)  # a number, a time or a boolean, as the field is
                value = list(value)
            else:
                value = integer(value, INT64 if key == name else INT32)
                if kind in (STRING, BOOL):
                    raise BadRequest(f"The request is rejected because the {name} condition needs a numeric field, "
                                     f"which {field} is not.")
            if key in long and long[key] != value:
                raise BadRequest(f"The request is rejected because the condition on {field} gives {key} twice, "
                                 "with different values.")
            long[key] = value
        out[field] = {k: long[k] for k in LONG_ORDER if k in long}
    return {"criterion": out}


# --- filters ---------------------------------------------------------------------------

def rank_of(resp) -> int | None:
    rank = resp._get_param("rank")
    if rank is None:
        return None
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise BadRequest(MESSAGES["json"])
    return rank


def action_of(resp) -> str | None:
    action = text(resp, "action")
    if action is not None and action not in ACTIONS:
        raise BadRequest(MESSAGES["invalid"].format("action"))
    return action


def description_of(resp) -> str | None:
    description = text(resp, "description")
    if description is not None:
        if len(description) > 512:
            raise BadRequest(MESSAGES["invalid"].format("description"))
        if not FILTER_DESCRIPTION.fullmatch(description):
            raise BadRequest(MESSAGES["json"])  # what AWS answers to a comma in a description
    return description


def find_filter(state: dict[str, Any], name: str) -> dict[str, Any]:
    f = next((f for f in state["filters"] if f["name"] == name), None)
    if f is None:
        raise BadRequest(MESSAGES["no_such_resource"])
    return f


# --- lists (IP sets, threat intel sets) ----------------------------------------------------

KEYS = {"ipset": ("ipSetId", "ipSetIds"), "threatintelset": ("threatIntelSetId", "threatIntelSetIds")}
CREATES = {"ipset": "CreateIPSet", "threatintelset": "CreateThreatIntelSet"}


def refuse_member(resp) -> None:
    if administrator_of(resp.current_account, resp.region) is not None:
        raise BadRequest(MESSAGES["member"])


def list_name(value: str) -> str:
    if not LIST_NAME.fullmatch(value):
        raise BadRequest(MESSAGES["invalid"].format("name"))
    return value


def location_of(value: str) -> str:
    if len(value) > 300 or not S3_LOCATION.fullmatch(value):
        raise BadRequest(MESSAGES["invalid"].format("location"))
    return value


def name_taken(state: dict[str, Any], name: str, but: str | None = None) -> None:
    """A list's name is unique among the account-region's IP address lists, trusted and threat alike."""
    for kind in KEYS:
        if any(s["name"] == name and i != but for i, s in state[kind].items()):
            raise BadRequest(MESSAGES["list_exists"])


def create_list(resp, kind: str) -> str:
    _, state = detector_state(resp, -2)
    refuse_member(resp)
    token = resp._get_param("clientToken")
    answer = replayed(state, CREATES[kind], token)
    if answer is not None:
        return answer
    name = list_name(text(resp, "name", required=True))
    fmt = text(resp, "format", required=True)
    if fmt not in FORMATS:
        raise BadRequest(MESSAGES["invalid"].format("format"))
    location = location_of(text(resp, "location", required=True))
    activate = boolean(resp, "activate", required=True)
    owner = owner_of(resp._get_param("expectedBucketOwner"))
    tags = tags_of(resp)
    name_taken(state, name)
    if len(state[kind]) >= QUOTA[kind]:
        raise BadRequest(MESSAGES["list_limit"])
    set_id = uuid.uuid4().hex
    state[kind][set_id] = {"name": name, "format": fmt, "location": location,
                           "status": "ACTIVE" if activate else "INACTIVE", "tags": tags,
                           **({"expectedBucketOwner": owner} if owner else {})}
    return remember(state, CREATES[kind], token, json.dumps({KEYS[kind][0]: set_id}))


def find_list(state: dict[str, Any], kind: str, set_id: str) -> dict[str, Any]:
    found = state[kind].get(set_id)
    if found is None:
        raise BadRequest(MESSAGES["no_such_resource"])
    return found


def get_list(resp, kind: str) -> str:
    _, state = detector_state(resp, -3)
    found = find_list(state, kind, unquote(resp.path.split("/")[-1]))
    return json.dumps({k: found[k] for k in ("name", "format", "location", "status", "tags", "expectedBucketOwner")
                       if k in found})


def update_list(resp, kind: str) -> str:
    _, state = detector_state(resp, -3)
    refuse_member(resp)
    set_id = unquote(resp.path.split("/")[-1])
    found = find_list(state, kind, set_id)
    name = text(resp, "name")
    location = text(resp, "location")
    activate = boolean(resp, "activate")
    owner = owner_of(resp._get_param("expectedBucketOwner"))
    if name is not None:
        name_taken(state, list_name(name), but=set_id)
    if location is not None:
        location_of(location)
    # format is not part of UpdateIPSet / UpdateThreatIntelSet: a format in the body is ignored.
    if name is not None:
        found["name"] = name
    if location is not None:
        found["location"] = location
    if activate is not None:
        found["status"] = "ACTIVE" if activate else "INACTIVE"
    if owner is not None:
        found["expectedBucketOwner"] = owner
    return "{}"


def delete_list(resp, kind: str) -> str:
    _, state = detector_state(resp, -3)
    refuse_member(resp)
    set_id = unquote(resp.path.split("/")[-1])
    find_list(state, kind, set_id)
    del state[kind][set_id]
    return "{}"


def list_lists(resp, kind: str) -> str:
    _, state = detector_state(resp, -2)
    rows, token = page(resp, list(state[kind]))
    return listed(KEYS[kind][1], rows, token)


# --- publishing destinations ---------------------------------------------------------

def properties_of(resp, value: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    """destinationProperties checked; an update's merged over the current ones."""
    if not isinstance(value, dict):
        raise BadRequest(MESSAGES["json"])
    merged = dict(current or {})
    for key in ("destinationArn", "kmsKeyArn", "expectedBucketOwner"):
        if value.get(key) is not None:
            if not isinstance(value[key], str):
                raise BadRequest(MESSAGES["json"])
            merged[key] = value[key]
    partition = re.escape(get_partition(resp.region))
    if not re.fullmatch(rf"arn:{partition}:s3:::{BUCKET}(?:/.*)?", merged.get("destinationArn", ""), re.ASCII):
        raise BadRequest(MESSAGES["invalid"].format("destinationArn"))
    if not re.fullmatch(rf"arn:{partition}:kms:[a-z0-9-]+:[0-9]{{12}}:key/[A-Za-z0-9-]+",
                        merged.get("kmsKeyArn", ""), re.ASCII):
        raise BadRequest(MESSAGES["invalid"].format("kmsKeyArn"))
    owner_of(merged.get("expectedBucketOwner"))
    return {k: merged[k] for k in ("destinationArn", "kmsKeyArn", "expectedBucketOwner") if k in merged}


def find_destination(state: dict[str, Any], destination_id: str) -> dict[str, Any]:
    found = state["destinations"].get(destination_id)
    if found is None:
        raise BadRequest(MESSAGES["no_destination"])
    return found


# --- the operations ------------------------------------------------------------------------

class SettingsResponses:
    """Methods added to moto's GuardDutyResponse (named as moto dispatches them)."""

    @one_at_a_time
    def create_filter(self) -> str:
        _, state = detector_state(self, -2)
        token = self._get_param("clientToken")
        answer = replayed(state, "CreateFilter", token)
        if answer is not None:
            return answer
        name = text(self, "name", required=True)
        if not FILTER_NAME.fullmatch(name):
            raise BadRequest(MESSAGES["invalid"].format("name"))
        action = action_of(self) or "NOOP"
        description = description_of(self)
        criteria = normal_criteria(self._get_param("findingCriteria"))
        rank = rank_of(self)
        tags = tags_of(self)
        filters = state["filters"]
        if any(f["name"] == name for f in filters):
            raise BadRequest(MESSAGES["filter_exists"])
        if len(filters) >= MAX_FILTERS:
            raise BadRequest(MESSAGES["filter_limit"])
        if rank is None:
            rank = len(filters) + 1
        if not 1 <= rank <= len(filters) + 1:
            raise BadRequest(MESSAGES["out_of_bounds"].format("rank"))
        now = time.time()
        f = {"name": name, "action": action, "findingCriteria": criteria, "tags": tags,
             "createdAt": now, "updatedAt": now, "version": 1}
        if description is not None:
            f["description"] = description
        filters.insert(rank - 1, f)
        return remember(state, "CreateFilter", token, json.dumps({"name": name}))

    @one_at_a_time
    def list_filters(self) -> str:
        _, state = detector_state(self, -2)
        rows, token = page(self, [f["name"] for f in state["filters"]])
        return listed("filterNames", rows, token)

    @one_at_a_time
    def get_filter(self) -> str:
        _, state = detector_state(self, -3)
        f = find_filter(state, unquote(self.path.split("/")[-1]))
        out = {"name": f["name"], **({"description": f["description"]} if "description" in f else {}),
               "action": f["action"], "rank": state["filters"].index(f) + 1,
               "findingCriteria": f["findingCriteria"], "tags": f["tags"],
               "createdAt": f["createdAt"], "updatedAt": f["updatedAt"], "version": f["version"]}
        return json.dumps(out)

    @one_at_a_time
    def update_filter(self) -> str:
        _, state = detector_state(self, -3)
        f = find_filter(state, unquote(self.path.split("/")[-1]))
        action = action_of(self)
        description = description_of(self)
        raw = self._get_param("findingCriteria")
        criteria = normal_criteria(raw) if raw is not None else None
        rank = rank_of(self)
        filters = state["filters"]
        if rank is not None and not 1 <= rank <= len(filters):
            raise BadRequest(MESSAGES["out_of_bounds"].format("rank"))
        if action is not None:
            f["action"] = action
        if description is not None:
            f["description"] = description
        if criteria is not None:
            f["findingCriteria"] = criteria
        if rank is not None:
            filters.remove(f)
            filters.insert(rank - 1, f)
        f["updatedAt"] = time.time()
        f["version"] += 1
        return json.dumps({"name": f["name"]})

    @one_at_a_time
    def delete_filter(self) -> str:
        _, state = detector_state(self, -3)
        state["filters"].remove(find_filter(state, unquote(self.path.split("/")[-1])))
        return "{}"

    @one_at_a_time
    def create_ip_set(self) -> str:
        return create_list(self, "ipset")

    @one_at_a_time
    def list_ip_sets(self) -> str:
        return list_lists(self, "ipset")

    @one_at_a_time
    def get_ip_set(self) -> str:
        return get_list(self, "ipset")

    @one_at_a_time
    def update_ip_set(self) -> str:
        return update_list(self, "ipset")

    @one_at_a_time
    def delete_ip_set(self) -> str:
        return delete_list(self, "ipset")

    @one_at_a_time
    def create_threat_intel_set(self) -> str:
        return create_list(self, "threatintelset")

    @one_at_a_time
    def list_threat_intel_sets(self) -> str:
        return list_lists(self, "threatintelset")

    @one_at_a_time
    def get_threat_intel_set(self) -> str:
        return get_list(self, "threatintelset")

    @one_at_a_time
    def update_threat_intel_set(self) -> str:
        return update_list(self, "threatintelset")

    @one_at_a_time
    def delete_threat_intel_set(self) -> str:
        return delete_list(self, "threatintelset")

    @one_at_a_time
    def create_publishing_destination(self) -> str:
        _, state = detector_state(self, -2)
        token = self._get_param("clientToken")
        answer = replayed(state, "CreatePublishingDestination", token)
        if answer is not None:
            return answer
        kind = self._get_param("destinationType")
        if kind is None:
            raise BadRequest(MESSAGES["no_type"])
        if kind != "S3":
            raise BadRequest(MESSAGES["json"])  # not a DestinationType
        if state["destinations"]:
            raise BadRequest(MESSAGES["destination_exists"])
        raw = self._get_param("destinationProperties")
        if raw is None:
            raise BadRequest(MESSAGES["no_properties"])
        properties = properties_of(self, raw)
        tags = tags_of(self)
        destination_id = uuid.uuid4().hex
        state["destinations"][destination_id] = {"destinationId": destination_id, "destinationType": "S3",
                                                 "status": "PUBLISHING", "failureStart": 0,
                                                 "destinationProperties": properties, "tags": tags}
        return remember(state, "CreatePublishingDestination", token, json.dumps({"destinationId": destination_id}))

    @one_at_a_time
    def list_publishing_destinations(self) -> str:
        _, state = detector_state(self, -2)
        rows, token = page(self, [{k: d[k] for k in ("destinationId", "destinationType", "status")}
                                  for d in state["destinations"].values()])
        return listed("destinations", rows, token)

    @one_at_a_time
    def describe_publishing_destination(self) -> str:
        _, state = detector_state(self, -3)
        d = find_destination(state, unquote(self.path.split("/")[-1]))
        return json.dumps({"destinationId": d["destinationId"], "destinationType": d["destinationType"],
                           "status": d["status"], "publishingFailureStartTimestamp": d["failureStart"],
                           "destinationProperties": d["destinationProperties"], "tags": d["tags"]})

    @one_at_a_time
    def update_publishing_destination(self) -> str:
        _, state = detector_state(self, -3)
        d = find_destination(state, unquote(self.path.split("/")[-1]))
        raw = self._get_param("destinationProperties")
        if not raw:
            raise BadRequest(MESSAGES["out_of_range"])
        d["destinationProperties"] = properties_of(self, raw, d["destinationProperties"])
        d["status"], d["failureStart"] = "PUBLISHING", 0  # checked again on update, as AWS does
        return "{}"

    @one_at_a_time
    def delete_publishing_destination(self) -> str:
        _, state = detector_state(self, -3)
        destination_id = unquote(self.path.split("/")[-1])
        find_destination(state, destination_id)
        del state["destinations"][destination_id]
        return "{}"


# --- the test hook ------------------------------------------------------------------------

def refuse(message: str):
    return 400, {"Content-Type": "application/json"}, json.dumps({"message": message})


def answer(body: dict[str, Any]):
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def destination_status(request, full_url, headers):
    """POST /__gdctl/destination-status: the test hook, not an AWS operation."""
    try:
        body = json.loads(request.get_data() or b"{}")
        account, region, status = body["accountId"], body["region"], body["status"]
    except (ValueError, KeyError, TypeError) as e:
        return refuse(f"the hook takes JSON with accountId, region and status ({e!r})")
    if not isinstance(account, str) or not isinstance(region, str):
        return refuse("accountId and region are strings")
    unknown = sorted(set(body) - {"accountId", "region", "status", "failureStartedHoursAgo"})
    if unknown:
        return refuse(f"unknown keys {unknown}; the hook takes accountId, region, status, failureStartedHoursAgo")
    if status not in PUBLISHING_STATUSES:
        return refuse(f"status must be one of {list(PUBLISHING_STATUSES)}")
    hours = body.get("failureStartedHoursAgo")
    if hours is not None:
        if status != FAILING:
            return refuse(f"failureStartedHoursAgo goes only with {FAILING}")
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours < 0:
            return refuse("failureStartedHoursAgo must be a number of hours, 0 or more")
    try:
        b = guardduty_backends[account][region]
    except KeyError:
        return refuse(f"unknown region {region!r}")
    with lock:
        if not b.detectors:
            return refuse(f"account {account} has no detector in {region}: create one first")
        state = settings_state(b, next(iter(b.detectors)))
        if not state["destinations"]:
            return refuse(f"account {account} has no publishing destination in {region}: create one first")
        d = next(iter(state["destinations"].values()))
        d["status"] = status
        d["failureStart"] = int((time.time() - (hours or 0) * 3600) * 1000) if status == FAILING else 0
        return answer({"destinationId": d["destinationId"], "status": status,
                       "publishingFailureStartTimestamp": d["failureStart"]})


PATHS = {
    # moto's own paths for filters, answered by this module's methods now.
    "{0}/detector/(?P<detector_id>[^/]+)/filter$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/filter/(?P<filter_name>[^/]+)$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/ipset$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/ipset/(?P<ip_set_id>[^/]+)$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/threatintelset$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/threatintelset/(?P<threat_intel_set_id>[^/]+)$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination/(?P<destination_id>[^/]+)$":
        GuardDutyResponse.dispatch,
    "{0}/__gdctl/destination-status$": destination_status,
}


def install() -> None:
    filter_fields()  # fails at once if botocore's model no longer lists them
    urls.url_paths.update(PATHS)
    for name, method in vars(SettingsResponses).items():
        if callable(method) and not name.startswith("_"):
            setattr(GuardDutyResponse, name, method)

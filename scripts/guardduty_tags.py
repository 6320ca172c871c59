"""GuardDuty's tagging operations that moto 5.2.5 lacks, on moto's own backend:

  TagResource             POST   /tags/{resourceArn}   {"tags": {KEY: VALUE}}
  UntagResource           DELETE /tags/{resourceArn}?tagKeys=KEY&...
  ListTagsForResource     GET    /tags/{resourceArn}

For detectors (`arn:aws:guardduty:REGION:ACCOUNT:detector/ID`), on the tags
moto keeps for them (CreateDetector's). An ARN of another account or region,
or of no detector, is BadRequestException as AWS words it; so is an ARN that is
not a GuardDuty detector's.
"""
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

from moto.guardduty import urls
from moto.guardduty.models import guardduty_backends
from moto.guardduty.responses import GuardDutyResponse

from guardduty_org import BadRequest

ARN = re.compile(r"arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector/([A-Za-z0-9]+)")
MAX_TAGS = 50


class TagResponses:
    """Methods added to moto's GuardDutyResponse (named as moto dispatches them)."""

    def _tagged(self):
        arn = unquote(urlsplit(self.uri).path.split("/tags/", 1)[1])
        m = ARN.fullmatch(arn)
        if not m:
            raise BadRequest("The request is rejected because the resourceArn is not a valid GuardDuty resource ARN.")
        region, account, detector_id = m.groups()
        if account != self.current_account or region != self.region:
            raise BadRequest("The request is rejected because the input resourceArn is not owned by the current account.")
        detector = guardduty_backends[account][region].detectors.get(detector_id)
        if detector is None:
            raise BadRequest("The request is rejected because the input detectorId is not owned by the current account.")
        return detector

    def tag_resource(self) -> str:
        detector = self._tagged()
        tags = self._get_param("tags")
        if not isinstance(tags, dict) or not tags:
            raise BadRequest("The request is rejected because the tags are missing.")
        merged = {**detector.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise BadRequest(f"The request is rejected because a resource can have at most {MAX_TAGS} tags.")
        detector.tags = merged
        return "{}"

    def untag_resource(self) -> str:
        detector = self._tagged()
        keys = parse_qs(urlsplit(self.uri).query).get("tagKeys", [])
        detector.tags = {k: v for k, v in detector.tags.items() if k not in keys}
        return "{}"

    def list_tags_for_resource(self) -> str:
        return json.dumps({"tags": self._tagged().tags})


PATHS = {"{0}/tags/(?P<resource_arn>.+)$": GuardDutyResponse.dispatch}


def install() -> None:
    urls.url_paths.update(PATHS)
    for name, method in vars(TagResponses).items():
        if callable(method):
            setattr(GuardDutyResponse, name, method)

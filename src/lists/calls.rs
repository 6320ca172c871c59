//! The list calls: List then Get of each side by side, and Create, Update,
//! Delete, for IP sets (trusted) and threat intel sets alike.

use std::collections::HashSet;

use aws_sdk_guardduty::types::{IpSetFormat, ThreatIntelSetFormat};
use aws_sdk_guardduty::Client;
use futures::future::try_join_all;

use super::plan::{Call, Existing, Kind};
use crate::error::{printable, RegionError};
use crate::fanout::WriteSent;
use crate::filters::calls::denied;

/// A member of an organization cannot manage lists: GuardDuty says so, and
/// gdctl says where they belong.
fn refused(call: &'static str, e: RegionError) -> RegionError {
    let mut e = denied(call, e);
    if e.code == "BadRequestException" && e.message.to_ascii_lowercase().contains("member") {
        e.hint = Some(std::borrow::Cow::Borrowed(
            "in an organization the lists belong in the delegated administrator's account: apply them with its credentials",
        ));
    }
    e
}

/// Every page of the list's ids.
async fn ids(client: &Client, detector: &str, kind: Kind) -> Result<Vec<String>, RegionError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = HashSet::new();
    loop {
        let (page, next) = match kind {
            Kind::Trusted => {
                let out = client
                    .list_ip_sets()
                    .detector_id(detector)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| denied("ListIPSets", RegionError::from_sdk(&e)))?;
                (out.ip_set_ids().to_vec(), out.next_token)
            }
            Kind::Threat => {
                let out = client
                    .list_threat_intel_sets()
                    .detector_id(detector)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| denied("ListThreatIntelSets", RegionError::from_sdk(&e)))?;
                (out.threat_intel_set_ids().to_vec(), out.next_token)
            }
        };
        ids.extend(page);
        match next.filter(|t| !t.is_empty()) {
            Some(t) if !seen.insert(t.clone()) => {
                return Err(RegionError::new("ResponseError", "a list's nextToken came twice"))
            }
            Some(t) => token = Some(t),
            None => return Ok(ids),
        }
    }
}

/// The region's lists of one kind, each read in full.
pub async fn read(client: &Client, detector: &str, kind: Kind) -> Result<Vec<Existing>, RegionError> {
    let ids = ids(client, detector, kind).await?;
    try_join_all(ids.into_iter().map(|id| async move {
        let text = |s: Option<&str>| printable(s.unwrap_or("").to_string());
        Ok(match kind {
            Kind::Trusted => {
                let s = client
                    .get_ip_set()
                    .detector_id(detector)
                    .ip_set_id(&id)
                    .send()
                    .await
                    .map_err(|e| denied("GetIPSet", RegionError::from_sdk(&e)))?;
                Existing {
                    name: text(s.name()),
                    format: text(s.format().map(|f| f.as_str())),
                    location: text(s.location()),
                    status: text(s.status().map(|f| f.as_str())),
                    id,
                }
            }
            Kind::Threat => {
                let s = client
                    .get_threat_intel_set()
                    .detector_id(detector)
                    .threat_intel_set_id(&id)
                    .send()
                    .await
                    .map_err(|e| denied("GetThreatIntelSet", RegionError::from_sdk(&e)))?;
                Existing {
                    name: text(s.name()),
                    format: text(s.format().map(|f| f.as_str())),
                    location: text(s.location()),
                    status: text(s.status().map(|f| f.as_str())),
                    id,
                }
            }
        })
    }))
    .await
}

/// Make the calls in order (a replaced list is deleted before it is made again).
pub async fn execute(
    client: &Client,
    detector: &str,
    kind: Kind,
    calls: &[(Call, String)],
    sent: &WriteSent,
) -> Result<(), RegionError> {
    for (call, made) in calls {
        let name = match (kind, call) {
            (Kind::Trusted, Call::Create(_)) => "CreateIPSet",
            (Kind::Trusted, Call::Update { .. }) => "UpdateIPSet",
            (Kind::Trusted, Call::Delete { .. }) => "DeleteIPSet",
            (Kind::Threat, Call::Create(_)) => "CreateThreatIntelSet",
            (Kind::Threat, Call::Update { .. }) => "UpdateThreatIntelSet",
            (Kind::Threat, Call::Delete { .. }) => "DeleteThreatIntelSet",
        };
        sent.mark(name);
        let result = match (kind, call) {
            (Kind::Trusted, Call::Create(l)) => client
                .create_ip_set()
                .detector_id(detector)
                .name(&l.name)
                .format(IpSetFormat::from(l.format.as_str()))
                .location(&l.location)
                .activate(l.activate)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
            (Kind::Trusted, Call::Update { id, list: l }) => client
                .update_ip_set()
                .detector_id(detector)
                .ip_set_id(id)
                .name(&l.name)
                .location(&l.location)
                .activate(l.activate)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
            (Kind::Trusted, Call::Delete { id }) => client
                .delete_ip_set()
                .detector_id(detector)
                .ip_set_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
            (Kind::Threat, Call::Create(l)) => client
                .create_threat_intel_set()
                .detector_id(detector)
                .name(&l.name)
                .format(ThreatIntelSetFormat::from(l.format.as_str()))
                .location(&l.location)
                .activate(l.activate)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
            (Kind::Threat, Call::Update { id, list: l }) => client
                .update_threat_intel_set()
                .detector_id(detector)
                .threat_intel_set_id(id)
                .name(&l.name)
                .location(&l.location)
                .activate(l.activate)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
            (Kind::Threat, Call::Delete { id }) => client
                .delete_threat_intel_set()
                .detector_id(detector)
                .threat_intel_set_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
        };
        result.map_err(|e| refused(name, e))?;
        sent.answered([made.clone()]);
    }
    Ok(())
}

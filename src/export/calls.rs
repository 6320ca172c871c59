//! The export calls: ListPublishingDestinations, DescribePublishingDestination,
//! and Create or Update.

use aws_sdk_guardduty::types::{DestinationProperties, DestinationType};
use aws_sdk_guardduty::Client;

use super::plan::{Call, Existing, Export};
use crate::error::{printable, RegionError};
use crate::fanout::WriteSent;
use crate::filters::calls::denied;

/// The region's destination (a detector has one at most).
pub async fn read(client: &Client, detector: &str) -> Result<Option<Existing>, RegionError> {
    let listed = client
        .list_publishing_destinations()
        .detector_id(detector)
        .send()
        .await
        .map_err(|e| denied("ListPublishingDestinations", RegionError::from_sdk(&e)))?;
    let Some(id) = listed.destinations().iter().find_map(|d| d.destination_id()) else {
        return Ok(None);
    };
    let d = client
        .describe_publishing_destination()
        .detector_id(detector)
        .destination_id(id)
        .send()
        .await
        .map_err(|e| denied("DescribePublishingDestination", RegionError::from_sdk(&e)))?;
    let props = d.destination_properties();
    let text = |s: Option<&str>| printable(s.unwrap_or("").to_string());
    Ok(Some(Existing {
        id: printable(id.to_string()),
        export: Export {
            destination_arn: text(props.and_then(|p| p.destination_arn())),
            kms_key_arn: text(props.and_then(|p| p.kms_key_arn())),
        },
        status: text(d.status().map(|s| s.as_str())),
        failing_since_ms: d.publishing_failure_start_timestamp().filter(|t| *t > 0),
    }))
}

fn properties(e: &Export) -> DestinationProperties {
    DestinationProperties::builder().destination_arn(&e.destination_arn).kms_key_arn(&e.kms_key_arn).build()
}

pub async fn execute(
    client: &Client,
    detector: &str,
    call: &Call,
    made: &str,
    sent: &WriteSent,
) -> Result<(), RegionError> {
    match call {
        Call::Create(e) => {
            sent.mark("CreatePublishingDestination");
            client
                .create_publishing_destination()
                .detector_id(detector)
                .destination_type(DestinationType::S3)
                .destination_properties(properties(e))
                .send()
                .await
                .map_err(|e| denied("CreatePublishingDestination", RegionError::from_sdk(&e)))?;
        }
        Call::Update { id, export } => {
            sent.mark("UpdatePublishingDestination");
            client
                .update_publishing_destination()
                .detector_id(detector)
                .destination_id(id)
                .destination_properties(properties(export))
                .send()
                .await
                .map_err(|e| denied("UpdatePublishingDestination", RegionError::from_sdk(&e)))?;
        }
    }
    sent.answered([made.to_string()]);
    Ok(())
}

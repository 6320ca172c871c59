//! Faults moto cannot produce, injected by scripts/front.py per region.

use crate::common::*;

const FOUR: &str = "eu-west-1,eu-west-2,us-east-1,us-west-2";

#[test]
fn a_forbidden_region_fails_alone_with_a_hint() {
    let front = front(&["eu-west-2=403"]);
    let w = World::via(&front.url);
    let (code, doc) = w.json(&["enable", "--regions", FOUR]);
    assert_eq!(code, 1);
    let r = by_region(&doc);
    let bad = &r["eu-west-2"];
    assert_eq!(bad["outcome"], "failed");
    assert_eq!(bad["error"]["code"], "UnrecognizedClientException");
    assert!(bad["error"]["hint"].as_str().unwrap().contains("may not be enabled"));
    for ok in ["eu-west-1", "us-east-1", "us-west-2"] {
        assert_eq!(r[ok]["outcome"], "created", "{ok}");
        assert_eq!(w.detectors(ok).len(), 1, "{ok}");
    }
    assert!(w.detectors("eu-west-2").is_empty());
    assert_eq!(doc["summary"]["failed"], 1);
}

#[test]
fn throttling_is_ridden_out() {
    let front = front(&["us-west-2=throttle:2"]);
    let w = World::via(&front.url);
    let out = w.gdctl(&["enable", "--regions", FOUR]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert_eq!(w.detectors("us-west-2").len(), 1);
}

#[test]
fn a_region_answering_500_fails_after_retries_while_the_others_succeed() {
    let front = front(&["us-east-1=500"]);
    let w = World::via(&front.url);
    // The home region answers EC2 too, so target another home here.
    let (code, doc) = w.json(&["enable", "--regions", FOUR, "--region", "eu-west-1", "--max-attempts", "2"]);
    assert_eq!(code, 1);
    let r = by_region(&doc);
    assert_eq!(r["us-east-1"]["error"]["code"], "InternalServerErrorException");
    assert_eq!(r["eu-west-2"]["outcome"], "created");
}

#[test]
fn a_hanging_region_is_cut_by_timeout_and_the_rest_finish() {
    let front = front(&["eu-west-2=hang"]);
    let w = World::via(&front.url);
    let out = w.gdctl(&["enable", "--regions", FOUR, "--timeout", "5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    let line = text.lines().find(|l| l.starts_with("eu-west-2")).unwrap();
    assert!(line.contains("failed") && line.contains("no answer within 5 s (--timeout)"), "{text}");
    for ok in ["eu-west-1", "us-east-1", "us-west-2"] {
        assert_eq!(w.detectors(ok).len(), 1, "{ok}");
    }
}

#[test]
fn losing_the_create_race_is_not_a_failure() {
    let front = front(&["eu-west-1=race"]);
    let w = World::via(&front.url);
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1", "--frequency", "six-hours"]);
    assert_eq!(code, 0, "{doc:#}");
    let seen = w.detectors("eu-west-1");
    assert_eq!(seen.len(), 1, "the rival's detector, and no second one");
    assert_eq!(by_region(&doc)["eu-west-1"]["detector_id"], seen[0].id.as_str());
}

#[test]
fn describe_regions_failing_is_a_setup_error_and_nothing_is_touched() {
    let front = front(&["us-east-1/ec2=403"]);
    let w = World::via(&front.url);
    let out = w.gdctl(&["enable"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        format!(
            "gdctl: error: DescribeRegions in us-east-1 failed: AuthFailure: AWS was not able to validate \
         the provided access credentials\n"
        )
    );
    assert!(w.snapshot().values().all(|d| d.is_empty()));
}

#[test]
fn refused_credentials_are_one_error_from_get_caller_identity() {
    let front = front(&["us-east-1/sts=403"]);
    let w = World::via(&front.url);
    let out = w.gdctl(&["enable"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: GetCallerIdentity in us-east-1 failed: InvalidClientTokenId: The security token \
         included in the request is invalid. (the credentials are not valid: check the keys, profile or role)\n"
    );
    assert!(w.snapshot().values().all(|d| d.is_empty()));
}

#[test]
fn an_answer_that_is_not_from_aws_is_one_plain_line() {
    let front = front(&["eu-west-2=502html"]);
    let w = World::via(&front.url);
    let (code, doc) = w.json(&["status", "--regions", "eu-west-1,eu-west-2"]);
    assert_eq!(code, 1);
    let e = &by_region(&doc)["eu-west-2"]["error"];
    assert_eq!(e["code"], "NotAwsResponse");
    assert_eq!(
        e["message"],
        "HTTP 502 with an answer that is not from AWS (it begins `<html><head><title>502 Bad Gateway</title></head><body>Bad G…`)"
    );
    assert_eq!(e["endpoint"], front.url.as_str());
}

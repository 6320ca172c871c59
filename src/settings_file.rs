//! The settings file `gdctl apply` converges (TOML): read and checked in full
//! before any call, into the same `Desired` values the flags give, and the
//! rules, lists and export. Every error names the file, line and column.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::SetupError;
use crate::export::plan::{check_bucket_arn, check_key_arn, Export};
use crate::filters::plan::{self as filters, Action, Condition, Criteria, Rule};
use crate::lists::plan::{List, FORMATS};
use crate::plan::Desired;

/// GuardDuty's quotas per region.
pub const MAX_RULES: usize = 100;
pub const MAX_CRITERIA: usize = 50;
pub const MAX_VALUES: usize = 50;
pub const MAX_THREAT_LISTS: usize = 6;

/// What the file asks for in every target region. A section left out is
/// not managed: nothing of that kind is read or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub detector: Option<Desired>,
    /// `None` without `[[suppression_rule]]` and `prune_rules`.
    pub rules: Option<Vec<Rule>>,
    pub prune_rules: bool,
    pub trusted_ips: Option<List>,
    pub threat_lists: Option<Vec<List>>,
    pub export: Option<Export>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    prune_rules: Option<bool>,
    detector: Option<RawDetector>,
    suppression_rule: Option<Vec<Spanned<RawRule>>>,
    trusted_ips: Option<Spanned<RawList>>,
    threat_list: Option<Vec<Spanned<RawList>>>,
    export: Option<RawExport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetector {
    frequency: Option<Spanned<String>>,
    features: Option<Spanned<Vec<String>>>,
    runtime_agents: Option<Spanned<Vec<String>>>,
    tags: Option<Spanned<BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    description: Option<Spanned<String>>,
    action: Option<Spanned<String>>,
    criteria: Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    name: Spanned<String>,
    format: Spanned<String>,
    location: Spanned<String>,
    activate: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExport {
    destination_arn: Spanned<String>,
    kms_key_arn: Spanned<String>,
}

/// Read and check the file (`-`: standard input).
pub fn read(path: &Path, reload_lists: bool) -> Result<Settings, SetupError> {
    let stdin = path == Path::new("-");
    let name = if stdin { "<stdin>".to_string() } else { path.display().to_string() };
    let text = match stdin {
        true => std::io::read_to_string(std::io::stdin()),
        false => std::fs::read_to_string(path),
    }
    .map_err(|e| SetupError::Invalid(format!("could not read {name}: {}", crate::error::plain_chain(&e))))?;
    // A file saved with a byte-order mark is still TOML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let settings = parse(text).map_err(|(span, message)| {
        let at = span.map(|s| position(text, s.start)).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
        // What the file holds is echoed: never its control characters.
        SetupError::Invalid(crate::error::printable(format!("{name}{at}: {message}")))
    })?;
    if reload_lists && settings.trusted_ips.is_none() && settings.threat_lists.is_none() {
        return Err(SetupError::Invalid(format!(
            "--reload-lists: {name} has no [trusted_ips] or [[threat_list]], so there is nothing to reload"
        )));
    }
    Ok(settings)
}

/// Line and column (both from 1) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

type Failure = (Option<Range<usize>>, String);

fn at<T>(s: &Spanned<T>, message: impl Into<String>) -> Failure {
    (Some(s.span()), message.into())
}

pub fn parse(text: &str) -> Result<Settings, Failure> {
    let raw: RawFile = toml::from_str(text).map_err(|e| (e.span(), e.message().to_string()))?;
    if raw.prune_rules == Some(true) && raw.suppression_rule.is_none() {
        return Err((
            None,
            "prune_rules = true with no [[suppression_rule]] would delete every filter in every region: \
             gdctl does not do that from a file (delete them with the console or the aws CLI)"
                .into(),
        ));
    }
    // A gate on an empty (or truncated) file would pass on nothing.
    if raw.detector.is_none()
        && raw.suppression_rule.is_none()
        && raw.trusted_ips.is_none()
        && raw.threat_list.is_none()
        && raw.export.is_none()
    {
        return Err((
            None,
            "the file names nothing to converge: no [detector], [[suppression_rule]], [trusted_ips], \
             [[threat_list]] or [export]"
                .into(),
        ));
    }
    let detector = raw.detector.map(detector).transpose()?;
    let prune_rules = raw.prune_rules.unwrap_or(false);
    let rules = match (raw.suppression_rule, prune_rules) {
        (None, false) => None,
        (rules, _) => Some(self::rules(rules.unwrap_or_default())?),
    };
    let trusted_ips = raw.trusted_ips.map(|l| list(&l)).transpose()?;
    let threat_lists = match raw.threat_list {
        None => None,
        Some(lists) => {
            if lists.len() > MAX_THREAT_LISTS {
                return Err(at(
                    &lists[MAX_THREAT_LISTS],
                    format!("at most {MAX_THREAT_LISTS} threat lists per region (GuardDuty's quota)"),
                ));
            }
            let mut out: Vec<List> = Vec::new();
            for l in &lists {
                let checked = list(l)?;
                if out.iter().any(|o| o.name == checked.name) {
                    return Err(at(
                        &l.get_ref().name,
                        format!("two threat lists are named `{}`", checked.name),
                    ));
                }
                // GuardDuty keeps list names unique in a region, trusted and threat alike.
                if trusted_ips.as_ref().is_some_and(|t| t.name == checked.name) {
                    return Err(at(
                        &l.get_ref().name,
                        format!(
                            "`{}` names the trusted IP list too: a region's lists need names of their own",
                            checked.name
                        ),
                    ));
                }
                out.push(checked);
            }
            Some(out)
        }
    };
    let export = raw
        .export
        .map(|e| {
            check_bucket_arn(e.destination_arn.get_ref()).map_err(|m| at(&e.destination_arn, m))?;
            check_key_arn(e.kms_key_arn.get_ref()).map_err(|m| at(&e.kms_key_arn, m))?;
            Ok::<_, Failure>(Export {
                destination_arn: e.destination_arn.into_inner(),
                kms_key_arn: e.kms_key_arn.into_inner(),
            })
        })
        .transpose()?;
    Ok(Settings { detector, rules, prune_rules, trusted_ips, threat_lists, export })
}

/// `[detector]`: the names and rules of `enable`'s flags.
fn detector(d: RawDetector) -> Result<Desired, Failure> {
    let frequency = d
        .frequency
        .map(|f| {
            <crate::cli::Frequency as clap::ValueEnum>::from_str(f.get_ref(), false).map_err(|_| {
                at(&f, format!("`{}` is not a frequency (fifteen-minutes, one-hour, six-hours)", f.get_ref()))
            })
        })
        .transpose()?;
    let agents = d.runtime_agents.as_ref().map(|a| a.get_ref().clone()).unwrap_or_default();
    if let (Some(a), None) = (&d.runtime_agents, &d.features) {
        return Err(at(a, "runtime_agents needs features (with runtime-monitoring in it)"));
    }
    let features = match &d.features {
        Some(f) => crate::features::requested(Some(f.get_ref()), &agents).map_err(|m| at(f, m))?,
        None => None,
    };
    let tags = match &d.tags {
        Some(t) => {
            let mut pairs = Vec::new();
            for (k, v) in t.get_ref() {
                pairs.push(crate::tags::parse_tag(&format!("{k}={v}")).map_err(|m| at(t, m))?);
            }
            crate::tags::collect(&pairs).map_err(|m| at(t, m))?
        }
        None => Default::default(),
    };
    Ok(Desired::Enabled { frequency, features, tags })
}

fn rules(raw: Vec<Spanned<RawRule>>) -> Result<Vec<Rule>, Failure> {
    if raw.len() > MAX_RULES {
        return Err(at(
            &raw[MAX_RULES],
            format!("at most {MAX_RULES} suppression rules per region (GuardDuty's quota)"),
        ));
    }
    let mut out: Vec<Rule> = Vec::new();
    for r in raw {
        let r = r.into_inner();
        let name = r.name.get_ref();
        if !(3..=64).contains(&name.len())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(at(
                &r.name,
                format!("`{name}`: a rule's name is 3 to 64 of letters, digits, `_`, `.` and `-`"),
            ));
        }
        if out.iter().any(|o| &o.name == name) {
            return Err(at(&r.name, format!("two rules are named `{name}`")));
        }
        let action = match r.action.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("archive") => Action::Archive,
            Some("noop") => Action::Noop,
            Some(other) => {
                return Err(at(
                    r.action.as_ref().unwrap(),
                    format!("`{other}` is not an action (archive, noop)"),
                ))
            }
        };
        if let Some(d) = &r.description {
            if d.get_ref().chars().count() > 512 {
                return Err(at(d, "a description is at most 512 characters"));
            }
            // The API's own list of what a description may hold.
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:_{}[]()/ \t\u{b}\n\u{c}\r".contains(c);
            if let Some(c) = d.get_ref().chars().find(|c| !allowed(*c)) {
                return Err(at(
                    d,
                    format!(
                        "a description holds `{}`: GuardDuty takes letters, digits, spaces and - . : _ ( ) [ ] {{ }} / only",
                        c.escape_default()
                    ),
                ));
            }
        }
        out.push(Rule {
            name: name.clone(),
            description: r.description.map(|d| d.into_inner()).unwrap_or_default(),
            action,
            criteria: criteria(&r.criteria)?,
        });
    }
    Ok(out)
}

fn criteria(raw: &Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>) -> Result<Criteria, Failure> {
    let fields = raw.get_ref();
    if fields.is_empty() {
        return Err(at(raw, "criteria names at least one field"));
    }
    if fields.len() > MAX_CRITERIA {
        return Err(at(raw, format!("at most {MAX_CRITERIA} criteria fields in a rule")));
    }
    let mut out = Criteria::new();
    for (field, value) in fields {
        if !filters::FIELDS.contains(&field.get_ref().as_str()) {
            return Err(at(field, format!("`{}` is not a field GuardDuty filters on", field.get_ref())));
        }
        out.insert(field.get_ref().clone(), condition(field.get_ref(), value)?);
    }
    Ok(out)
}

/// `["a", "b"]` (equals), or `{ gte = 4, lt = 7 }`, `{ neq = ["x"] }`: a
/// number field takes numbers (and ranges), a true/false field booleans, the
/// others strings, as GuardDuty checks them.
fn condition(field: &str, v: &Spanned<toml::Value>) -> Result<Condition, Failure> {
    let kind = filters::kind_of(field);
    let strings = |value: &toml::Value, most: usize| -> Result<Vec<String>, Failure> {
        let toml::Value::Array(items) = value else {
            return Err(at(v, format!("`{field}`: values go in a list (`[...]`), or a table of operators")));
        };
        if items.is_empty() || items.len() > most {
            return Err(at(v, format!("`{field}`: a condition has 1 to {most} values")));
        }
        items
            .iter()
            .map(|i| match (kind, i) {
                (filters::Kind::Text, toml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                (filters::Kind::Number, toml::Value::Integer(n)) => Ok(n.to_string()),
                (filters::Kind::Boolean, toml::Value::Boolean(b)) => Ok(b.to_string()),
                (filters::Kind::Text, toml::Value::String(_)) => {
                    Err(at(v, format!("`{field}`: an empty value matches nothing")))
                }
                (k, other) => {
                    Err(at(v, format!("`{field}` takes {}, not a {}", k.words(), other.type_str())))
                }
            })
            .collect()
    };
    let number = |op: &str, value: &toml::Value| match (kind, value) {
        (filters::Kind::Number, toml::Value::Integer(n)) => Ok(*n),
        (filters::Kind::Number, other) => {
            Err(at(v, format!("`{field}`: `{op}` takes a whole number, not a {}", other.type_str())))
        }
        (k, _) => Err(at(v, format!("`{field}` takes {}: `{op}` compares numbers only", k.words()))),
    };
    let patterns = |op: &str, value: &toml::Value| -> Result<Vec<String>, Failure> {
        let toml::Value::Array(items) = value else {
            return Err(at(v, format!("`{field}`: `{op}` takes a list of patterns")));
        };
        if items.is_empty() || items.len() > filters::MAX_PATTERNS {
            return Err(at(v, format!("`{field}`: `{op}` takes 1 to {} patterns", filters::MAX_PATTERNS)));
        }
        items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) if (1..=512).contains(&s.chars().count()) => Ok(s.clone()),
                _ => Err(at(v, format!("`{field}`: a pattern is a string of 1 to 512 characters"))),
            })
            .collect()
    };
    let mut c = Condition::default();
    match v.get_ref() {
        toml::Value::Table(ops) => {
            for (op, value) in ops {
                match op.as_str() {
                    "eq" => c.equals = strings(value, MAX_VALUES)?,
                    "neq" => c.not_equals = strings(value, MAX_VALUES)?,
                    "gt" => c.greater_than = Some(number(op, value)?),
                    "gte" => c.greater_than_or_equal = Some(number(op, value)?),
                    "lt" => c.less_than = Some(number(op, value)?),
                    "lte" => c.less_than_or_equal = Some(number(op, value)?),
                    "matches" => c.matches = patterns(op, value)?,
                    "not_matches" => c.not_matches = patterns(op, value)?,
                    other => {
                        return Err(at(
                            v,
                            format!(
                            "`{other}` is not an operator (eq, neq, gt, gte, lt, lte, matches, not_matches)"
                        ),
                        ))
                    }
                }
            }
            if c.is_empty() {
                return Err(at(v, "a condition names at least one operator"));
            }
        }
        value => c.equals = strings(value, MAX_VALUES)?,
    }
    Ok(c.normal())
}

fn list(l: &Spanned<RawList>) -> Result<List, Failure> {
    let l = l.get_ref();
    let name = l.name.get_ref();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(at(&l.name, "a list's name is 1 to 300 characters"));
    }
    let format = l.format.get_ref().to_ascii_uppercase();
    if !FORMATS.contains(&format.as_str()) {
        return Err(at(
            &l.format,
            format!("`{}` is not a list format ({})", l.format.get_ref(), FORMATS.join(", ")),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(at(&l.name, "a list's name holds control characters"));
    }
    let location = l.location.get_ref();
    if !crate::lists::plan::is_s3_url(location) {
        return Err(at(
            &l.location,
            format!(
                "`{location}` is not an S3 object's URL (https://s3.amazonaws.com/BUCKET/KEY, \
                 https://BUCKET.s3.REGION.amazonaws.com/KEY, s3://BUCKET/KEY, ...)"
            ),
        ));
    }
    Ok(List { name: name.clone(), format, location: location.clone(), activate: l.activate.unwrap_or(true) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../examples/guardduty.toml");

    fn fails(text: &str) -> (usize, usize, String) {
        let (span, message) = parse(text).unwrap_err();
        let (l, c) = position(text, span.map_or(0, |s| s.start));
        (l, c, message)
    }

    #[test]
    fn the_example_reads_into_every_section() {
        let s = parse(EXAMPLE).unwrap();
        assert!(matches!(s.detector, Some(Desired::Enabled { frequency: Some(_), .. })));
        let rules = s.rules.unwrap();
        assert!(rules.len() >= 2);
        assert_eq!(rules[0].action, Action::Archive);
        assert!(s.trusted_ips.is_some() && !s.threat_lists.unwrap().is_empty() && s.export.is_some());
    }

    #[test]
    fn criteria_take_values_or_operators_in_one_normal_form() {
        let s = parse(
            r#"
[[suppression_rule]]
name = "scanner"
criteria = { type = ["b", "a", "a"], severity = { lt = 4, gte = 1 }, "service.archived" = [false] }
"#,
        )
        .unwrap();
        let c = &s.rules.unwrap()[0].criteria;
        assert_eq!(c["type"].equals, ["a", "b"]);
        assert_eq!((c["severity"].less_than, c["severity"].greater_than_or_equal), (Some(4), Some(1)));
        assert_eq!(c["service.archived"].equals, ["false"]);
    }

    #[test]
    fn bad_input_names_the_line_and_column() {
        let (l, c, m) = fails("prune_rules = true\n[detector]\nfrequncy = \"one-hour\"\n");
        assert_eq!((l, m.contains("unknown field `frequncy`")), (3, true), "{m}");
        assert_eq!(c, 1);
        let (l, _, m) = fails("[[suppression_rule]]\nname = \"a b\"\ncriteria = { type = [\"x\"] }\n");
        assert!(l == 2 && m.contains("3 to 64"), "{l} {m}");
        let (l, c, m) = fails("[[suppression_rule]]\nname = \"abc\"\ncriteria = { typo = [\"x\"] }\n");
        assert!(l == 3 && c == 14 && m.contains("not a field"), "{l}:{c} {m}");
        let (_, _, m) =
            fails("[[suppression_rule]]\nname = \"abc\"\ncriteria = { severity = { lessthan = 4 } }\n");
        assert!(m.contains("not an operator"), "{m}");
        let dup = "[[suppression_rule]]\nname = \"abc\"\ncriteria = { type = [\"x\"] }\n";
        let (l, _, m) = fails(&format!("{dup}{dup}"));
        assert!(l == 5 && m.contains("two rules"), "{l} {m}");
        let (_, _, m) = fails("[trusted_ips]\nname = \"o\"\nformat = \"CSV\"\nlocation = \"s3://b/k\"\n");
        assert!(m.contains("not a list format"), "{m}");
        let (_, _, m) = fails("[export]\ndestination_arn = \"bucket\"\nkms_key_arn = \"k\"\n");
        assert!(m.contains("not an S3 bucket ARN"), "{m}");
        let seven: String = (0..7)
            .map(|i| {
                format!("[[threat_list]]\nname = \"t{i}\"\nformat = \"TXT\"\nlocation = \"s3://b/{i}\"\n")
            })
            .collect();
        assert!(fails(&seven).2.contains("at most 6"));
        let many: String = (0..101)
            .map(|i| format!("[[suppression_rule]]\nname = \"rule{i}\"\ncriteria = {{ type = [\"x\"] }}\n"))
            .collect();
        assert!(fails(&many).2.contains("at most 100"));
        let fields: String =
            (0..51).map(|i| format!("\"resource.instanceDetails.tags.value\" = [\"{i}\"], ")).collect();
        assert!(parse(&format!("[[suppression_rule]]\nname = \"abc\"\ncriteria = {{ {fields} }}\n")).is_err());
        let rule =
            |criteria: &str| format!("[[suppression_rule]]\nname = \"abc\"\ncriteria = {{ {criteria} }}\n");
        for (criteria, says) in [
            ("severity = [\"high\"]", "takes whole numbers"),
            ("type = { gt = 4 }", "compares numbers only"),
            ("\"service.archived\" = [\"maybe\"]", "takes true or false"),
            ("severity = 4", "values go in a list"),
            ("type = [\"a\", 1]", "takes strings, not a integer"),
            ("type = { matches = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"] }", "1 to 5 patterns"),
            ("type = [\"\"]", "empty value"),
        ] {
            let (_, _, m) = fails(&rule(criteria));
            assert!(m.contains(says), "{criteria}: {m}");
        }
        let (_, _, m) = fails("[[suppression_rule]]\nname = \"abc\"\ndescription = \"scanner, sandbox\"\ncriteria = { type = [\"x\"] }\n");
        assert!(m.contains("a description holds `,`"), "{m}");
        assert!(fails("").2.contains("names nothing"));
        assert!(fails("prune_rules = true\n").2.contains("would delete every filter"));
        let (_, _, m) = fails("[trusted_ips]\nname = \"x\"\nformat = \"TXT\"\nlocation = \"s3://bucket/a\"\n[[threat_list]]\nname = \"x\"\nformat = \"TXT\"\nlocation = \"s3://bucket/b\"\n");
        assert!(m.contains("names the trusted IP list too"), "{m}");
        let (_, _, m) =
            fails("[trusted_ips]\nname = \"x\"\nformat = \"TXT\"\nlocation = \"https://example.com/k\"\n");
        assert!(m.contains("not an S3 object's URL"), "{m}");
        let (_, _, m) = fails("[detector]\nfrequency = \"hourly\"\n");
        assert!(m.contains("not a frequency"), "{m}");
        let (l, _, m) = fails("[detector\n");
        assert!(l == 1 && !m.is_empty(), "{m}");
    }
}

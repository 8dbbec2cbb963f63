//! The policy set: Cedar files, the schema and the category table, parsed,
//! validated and sliced per request type so an evaluation only sees the
//! policies that can apply to its action.

use crate::broker::Part;
use crate::error::BrokerError;
use cedar_policy::{
    ActionConstraint, EntityUid, PolicyId, PolicySet, Schema, ValidationMode, Validator,
};
use custos_core::event::FieldClass;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

/// The shipped policy files, compiled in as the defaults.
pub const DEFAULT_POLICY_FILES: &[(&str, &str)] = &[
    ("access.cedar", include_str!("../policies/access.cedar")),
    ("guards.cedar", include_str!("../policies/guards.cedar")),
    ("bulk.cedar", include_str!("../policies/bulk.cedar")),
];
/// The shipped schema.
pub const DEFAULT_SCHEMA: &str = include_str!("../policies/schema.cedarschema");
/// The shipped category table.
pub const DEFAULT_CATEGORIES: &str = include_str!("../policies/categories.json");

/// File names inside a policy directory.
pub const SCHEMA_FILE: &str = "schema.cedarschema";
pub const CATEGORIES_FILE: &str = "categories.json";

/// The category used when an agent reads a customer on a live contact with
/// no ticket.
pub const LIVE_CONTACT_CATEGORY: &str = "live_contact";

/// A Cedar action of the broker: one per request type, and `reveal` asked
/// after `view` when an agent wants plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CedarAction {
    View = 0,
    Reveal = 1,
    Search = 2,
    Export = 3,
}

impl CedarAction {
    pub(crate) const ALL: [CedarAction; 4] = [
        CedarAction::View,
        CedarAction::Reveal,
        CedarAction::Search,
        CedarAction::Export,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            CedarAction::View => "view",
            CedarAction::Reveal => "reveal",
            CedarAction::Search => "search",
            CedarAction::Export => "export",
        }
    }

    pub(crate) fn uid(self) -> Result<EntityUid, String> {
        EntityUid::from_str(&format!("Action::\"{}\"", self.name())).map_err(|e| e.to_string())
    }
}

/// Parsed, validated policies.
#[derive(Debug)]
pub(crate) struct Policies {
    pub(crate) full: PolicySet,
    /// One slice per [`CedarAction`], indexed by its discriminant, in two
    /// parts indexed by [`Part`].
    pub(crate) slices: Vec<[PolicySet; 2]>,
    /// Policy id → its `@reason` annotation.
    pub(crate) reasons: HashMap<String, String>,
    pub(crate) schema: Schema,
    pub(crate) categories: BTreeMap<String, Vec<FieldClass>>,
    pub(crate) action_uids: Vec<EntityUid>,
    /// See [`Policies::parse`].
    pub(crate) reveal_shares_view_request_part: bool,
    /// The ids of the `reveal` per-field policies that are also `view`
    /// per-field policies and never read `action`: on a field that passed
    /// `view`, their `reveal` result is their `view` result.
    pub(crate) reveal_shares_view_field: Vec<String>,
    /// One unsplit slice per [`CedarAction`]: the reference the split and
    /// indexed evaluation must agree with (tests, benches).
    pub(crate) whole: Vec<PolicySet>,
}

impl Policies {
    /// Parses `files` (name, text), the schema and the category table, and
    /// validates the policies against the schema.
    pub(crate) fn parse(
        files: &[(String, String)],
        schema: &str,
        categories: &str,
    ) -> Result<Policies, BrokerError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(schema).map_err(|e| BrokerError::Schema {
                message: one_line(&e.to_string()),
            })?;
        let categories: BTreeMap<String, Vec<FieldClass>> = serde_json::from_str(categories)
            .map_err(|e| BrokerError::Categories {
                message: one_line(&e.to_string()),
            })?;
        if !categories.contains_key(LIVE_CONTACT_CATEGORY) {
            return Err(BrokerError::Categories {
                message: format!("missing the `{LIVE_CONTACT_CATEGORY}` category"),
            });
        }
        let mut full = PolicySet::new();
        let mut reasons = HashMap::new();
        for (file, text) in files {
            let parsed = PolicySet::from_str(text).map_err(|e| BrokerError::PolicyParse {
                file: file.clone(),
                message: one_line(&e.to_string()),
            })?;
            if parsed.templates().next().is_some() {
                return Err(BrokerError::PolicyParse {
                    file: file.clone(),
                    message: "templates are not supported".into(),
                });
            }
            for policy in parsed.policies() {
                let id = policy
                    .annotation("id")
                    .ok_or_else(|| BrokerError::MissingPolicyId { file: file.clone() })?;
                let reason = policy.annotation("reason").unwrap_or(id).to_owned();
                if reasons.insert(id.to_owned(), reason).is_some() {
                    return Err(BrokerError::DuplicatePolicyId { id: id.to_owned() });
                }
                full.add(policy.new_id(PolicyId::new(id)))
                    .map_err(|_| BrokerError::DuplicatePolicyId { id: id.to_owned() })?;
            }
        }
        let action_uids = CedarAction::ALL
            .iter()
            .map(|a| a.uid())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| BrokerError::Schema { message })?;
        let mut slices = Vec::with_capacity(action_uids.len());
        let mut whole = Vec::with_capacity(action_uids.len());
        for uid in &action_uids {
            let mut slice = [PolicySet::new(), PolicySet::new()];
            let mut all = PolicySet::new();
            for policy in full.policies() {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(action) => &action == uid,
                    ActionConstraint::In(actions) => actions.contains(uid),
                };
                if applies {
                    all.add(policy.clone())
                        .map_err(|_| BrokerError::DuplicatePolicyId {
                            id: policy.id().to_string(),
                        })?;
                    let part = if reads_resource(policy) {
                        Part::Field
                    } else {
                        Part::Request
                    };
                    slice[part as usize].add(policy.clone()).map_err(|_| {
                        BrokerError::DuplicatePolicyId {
                            id: policy.id().to_string(),
                        }
                    })?;
                }
            }
            slices.push(slice);
            whole.push(all);
        }
        // The request parts of `view` and `reveal` give the same answer when
        // they hold the same policies and none reads `action`: a reveal
        // request then evaluates that part once.
        let ids = |set: &PolicySet| {
            let mut ids: Vec<String> = set.policies().map(|p| p.id().to_string()).collect();
            ids.sort();
            ids
        };
        let request_part = |action: CedarAction| &slices[action as usize][Part::Request as usize];
        let reveal_shares_view_request_part = ids(request_part(CedarAction::View))
            == ids(request_part(CedarAction::Reveal))
            && !request_part(CedarAction::View)
                .policies()
                .any(|p| reads_var(p, "action"));
        let field_part = |action: CedarAction| &slices[action as usize][Part::Field as usize];
        let view_field_ids = ids(field_part(CedarAction::View));
        let reveal_shares_view_field = field_part(CedarAction::Reveal)
            .policies()
            .filter(|p| view_field_ids.contains(&p.id().to_string()) && !reads_var(p, "action"))
            .map(|p| p.id().to_string())
            .collect();
        let policies = Policies {
            full,
            whole,
            reveal_shares_view_field,
            slices,
            reasons,
            schema,
            categories,
            action_uids,
            reveal_shares_view_request_part,
        };
        policies.validate()?;
        Ok(policies)
    }

    /// The shipped defaults.
    pub(crate) fn defaults() -> Result<Policies, BrokerError> {
        let files: Vec<(String, String)> = DEFAULT_POLICY_FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        Policies::parse(&files, DEFAULT_SCHEMA, DEFAULT_CATEGORIES)
    }

    /// Reads every `*.cedar` file of `dir` (in name order), `schema.cedarschema`
    /// and `categories.json`.
    pub(crate) fn from_dir(dir: &Path) -> Result<Policies, BrokerError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| BrokerError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        };
        let entries = std::fs::read_dir(dir).map_err(|e| BrokerError::Read {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| BrokerError::Read {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "cedar") {
                paths.push(path);
            }
        }
        if paths.is_empty() {
            return Err(BrokerError::NoPolicies {
                path: dir.display().to_string(),
            });
        }
        paths.sort();
        let mut files = Vec::with_capacity(paths.len());
        for path in &paths {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            files.push((name, read(path)?));
        }
        let schema = read(&dir.join(SCHEMA_FILE))?;
        let categories = read(&dir.join(CATEGORIES_FILE))?;
        Policies::parse(&files, &schema, &categories)
    }

    /// Strict validation of every policy against the schema.
    pub(crate) fn validate(&self) -> Result<(), BrokerError> {
        let validator = Validator::new(self.schema.clone());
        let result = validator.validate(&self.full, ValidationMode::Strict);
        if result.validation_passed() {
            return Ok(());
        }
        let problems = result
            .validation_errors()
            .map(|e| one_line(&e.to_string()))
            .collect();
        Err(BrokerError::Invalid { problems })
    }

    pub(crate) fn slice(&self, action: CedarAction, part: Part) -> Option<&PolicySet> {
        self.slices
            .get(action as usize)
            .map(|parts| &parts[part as usize])
    }

    pub(crate) fn whole_slice(&self, action: CedarAction) -> Option<&PolicySet> {
        self.whole.get(action as usize)
    }

    pub(crate) fn action_uid(&self, action: CedarAction) -> Option<&EntityUid> {
        self.action_uids.get(action as usize)
    }
}

/// Whether a policy's conditions read `resource` (its scope always names it;
/// a scope constraint on it counts too). When in doubt, yes: a policy
/// evaluated per field is correct, only slower.
fn reads_resource(policy: &cedar_policy::Policy) -> bool {
    if !matches!(
        policy.resource_constraint(),
        cedar_policy::ResourceConstraint::Any
    ) {
        return true;
    }
    reads_var(policy, "resource")
}

/// Whether a policy's conditions read a variable (`resource`, `action`);
/// yes when in doubt.
fn reads_var(policy: &cedar_policy::Policy, var: &str) -> bool {
    let Ok(json) = policy.to_json() else {
        return true;
    };
    json.get("conditions").is_none_or(|c| mentions_var(c, var))
}

fn mentions_var(value: &serde_json::Value, var: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, v)| (key == "Var" && v == var) || mentions_var(v, var)),
        serde_json::Value::Array(items) => items.iter().any(|v| mentions_var(v, var)),
        _ => false,
    }
}

/// Error texts of dependencies may span lines; ours do not.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> cedar_policy::Policy {
        cedar_policy::Policy::from_str(text).unwrap()
    }

    #[test]
    fn policies_that_read_resource_are_evaluated_per_field() {
        assert!(reads_resource(&policy(
            "permit (principal, action, resource) when { resource.sensitive };"
        )));
        assert!(reads_resource(&policy(
            "permit (principal, action, resource == Field::\"name\");"
        )));
        assert!(!reads_resource(&policy(
            "forbid (principal, action, resource) when { principal.suspended };"
        )));
        assert!(reads_var(
            &policy("permit (principal, action, resource) when { action == Action::\"view\" };"),
            "action"
        ));
        assert!(!reads_var(
            &policy("permit (principal, action, resource) when { principal.suspended };"),
            "action"
        ));
    }

    #[test]
    fn shipped_view_and_reveal_share_their_request_part() {
        assert!(
            Policies::defaults()
                .unwrap()
                .reveal_shares_view_request_part
        );
        let mut shared = Policies::defaults().unwrap().reveal_shares_view_field;
        shared.sort();
        assert_eq!(shared, ["approval_required", "field_not_needed"]);
    }
}

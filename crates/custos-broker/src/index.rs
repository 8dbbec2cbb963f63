//! The field index: which per-field policies can apply to a field class,
//! worked out once at load time from each policy's `resource` scope and the
//! leading conditions of its `when` clauses that read nothing but
//! `resource`. A policy the analysis cannot settle stays in every field's
//! set, so the index only ever drops policies that Cedar would find false
//! without an error for that field.
//!
//! Why dropping is exact: Cedar evaluates a policy as `principal-scope &&
//! action-scope && resource-scope && clause1 && clause2 ...` left to right
//! with short-circuit, the scope constraints never error, and a `when`
//! clause `a && b` is the conjunction `a`, then `b`. So when the resource
//! scope, or a conjunct reached after only true conjuncts, is false for the
//! field, the policy is not satisfied and raised no error — exactly what a
//! policy missing from the set contributes to the response.

use cedar_policy::{EntityUid, Policy, ResourceConstraint};
use serde_json::Value as Json;

/// The field entity as the policies see it.
pub(crate) struct FieldView<'a> {
    pub(crate) uid: &'a EntityUid,
    pub(crate) name: &'a str,
    pub(crate) sensitive: bool,
}

/// A value the analysis knows without any request.
#[derive(Clone, Debug, PartialEq)]
enum Known {
    Bool(bool),
    Str(String),
    Resource,
}

/// Whether `policy` may be satisfied (or error) for `field`. `false` only
/// when the analysis shows it is false with no error for every request.
pub(crate) fn may_apply(policy: &Policy, field: &FieldView<'_>) -> bool {
    let scope_holds = match policy.resource_constraint() {
        ResourceConstraint::Any => true,
        // A field entity has no parents: `in` is `==` for it.
        ResourceConstraint::Eq(uid) | ResourceConstraint::In(uid) => &uid == field.uid,
        ResourceConstraint::Is(type_name) => &type_name == field.uid.type_name(),
        ResourceConstraint::IsIn(type_name, uid) => {
            &type_name == field.uid.type_name() && &uid == field.uid
        }
    };
    if !scope_holds {
        return false;
    }
    let Ok(json) = policy.to_json() else {
        return true;
    };
    let Some(conditions) = json.get("conditions").and_then(Json::as_array) else {
        return true;
    };
    let mut conjuncts = Vec::new();
    for condition in conditions {
        let Some(body) = condition.get("body") else {
            return true;
        };
        match condition.get("kind").and_then(Json::as_str) {
            Some("when") => flatten_and(body, &mut conjuncts),
            Some("unless") => conjuncts.push(Conjunct::Not(body)),
            _ => return true,
        }
    }
    for conjunct in conjuncts {
        let value = match conjunct {
            Conjunct::Plain(expr) => eval(expr, field),
            Conjunct::Not(expr) => match eval(expr, field) {
                Some(Known::Bool(b)) => Some(Known::Bool(!b)),
                _ => None,
            },
        };
        match value {
            Some(Known::Bool(true)) => {}
            Some(Known::Bool(false)) => return false,
            // Unknown, or a non-boolean (Cedar raises a type error): keep.
            _ => return true,
        }
    }
    true
}

/// The request-level guard of a per-field policy: its principal scope and
/// the conjuncts that read neither `resource` nor `action`, in order,
/// skipping the conjuncts that read only `resource` and are a boolean for
/// every field (`resource.sensitive`). `None` when there is no such conjunct
/// before the first one that reads `resource` otherwise.
///
/// Evaluated once per request (as a `permit`, any action, any resource):
/// when the guard is false without error, the policy is false without error
/// for every field of the request — each of its conjuncts the guard skips is
/// a boolean with no error, each it keeps has the same value as in the
/// policy, and the resource scope can only make the policy false sooner.
/// A guard that is true or errors decides nothing: the policy is evaluated
/// per field as before.
pub(crate) fn guard(policy: &Policy, fields: &[FieldView<'_>]) -> Option<Policy> {
    let json = policy.to_json().ok()?;
    let conditions = json.get("conditions")?.as_array()?;
    let mut conjuncts = Vec::new();
    for condition in conditions {
        let body = condition.get("body")?;
        match condition.get("kind")?.as_str()? {
            "when" => flatten_and(body, &mut conjuncts),
            "unless" => conjuncts.push(Conjunct::Not(body)),
            _ => return None,
        }
    }
    let mut kept: Vec<Json> = Vec::new();
    for conjunct in conjuncts {
        let expr = match conjunct {
            Conjunct::Plain(expr) => expr,
            Conjunct::Not(expr) => expr,
        };
        if mentions_var(expr, "resource") {
            let always_boolean = fields
                .iter()
                .all(|field| matches!(eval(expr, field), Some(Known::Bool(_))));
            if always_boolean {
                continue;
            }
            break;
        }
        if mentions_var(expr, "action") {
            break;
        }
        kept.push(match conjunct {
            Conjunct::Plain(expr) => expr.clone(),
            Conjunct::Not(expr) => serde_json::json!({ "!": { "arg": expr } }),
        });
    }
    let mut kept = kept.into_iter();
    let first = kept.next()?;
    let body = kept.fold(
        first,
        |left, right| serde_json::json!({ "&&": { "left": left, "right": right } }),
    );
    let guard = serde_json::json!({
        "effect": "permit",
        "principal": json.get("principal")?,
        "action": { "op": "All" },
        "resource": { "op": "All" },
        "conditions": [ { "kind": "when", "body": body } ],
    });
    Policy::from_json(Some(policy.id().clone()), guard).ok()
}

/// Whether an expression's JSON form reads a variable; yes when in doubt.
pub(crate) fn mentions_var(value: &Json, var: &str) -> bool {
    match value {
        Json::Object(map) => map
            .iter()
            .any(|(key, v)| (key == "Var" && v == var) || mentions_var(v, var)),
        Json::Array(items) => items.iter().any(|v| mentions_var(v, var)),
        _ => false,
    }
}

#[derive(Clone, Copy)]
enum Conjunct<'a> {
    Plain(&'a Json),
    Not(&'a Json),
}

/// `a && b && c` in evaluation order.
fn flatten_and<'a>(expr: &'a Json, out: &mut Vec<Conjunct<'a>>) {
    if let Some(and) = expr.get("&&")
        && let (Some(left), Some(right)) = (and.get("left"), and.get("right"))
    {
        flatten_and(left, out);
        flatten_and(right, out);
        return;
    }
    out.push(Conjunct::Plain(expr));
}

/// Evaluates an expression that reads only `resource` and literals; `None`
/// for anything else, or anything that would error.
fn eval(expr: &Json, field: &FieldView<'_>) -> Option<Known> {
    let object = expr.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let (op, arg) = object.iter().next()?;
    match op.as_str() {
        "Value" => match arg {
            Json::Bool(b) => Some(Known::Bool(*b)),
            Json::String(s) => Some(Known::Str(s.clone())),
            _ => None,
        },
        "Var" => (arg.as_str()? == "resource").then_some(Known::Resource),
        "." => {
            if eval(arg.get("left")?, field)? != Known::Resource {
                return None;
            }
            match arg.get("attr")?.as_str()? {
                "name" => Some(Known::Str(field.name.to_owned())),
                "sensitive" => Some(Known::Bool(field.sensitive)),
                _ => None,
            }
        }
        "!" => match eval(arg.get("arg")?, field)? {
            Known::Bool(b) => Some(Known::Bool(!b)),
            _ => None,
        },
        "&&" | "||" => {
            let short = op == "||";
            match eval(arg.get("left")?, field)? {
                Known::Bool(b) if b == short => Some(Known::Bool(short)),
                Known::Bool(_) => match eval(arg.get("right")?, field)? {
                    Known::Bool(b) => Some(Known::Bool(b)),
                    _ => None,
                },
                _ => None,
            }
        }
        "==" | "!=" => {
            let left = eval(arg.get("left")?, field)?;
            let right = eval(arg.get("right")?, field)?;
            // Only like with like: other comparisons stay with Cedar.
            let same = match (&left, &right) {
                (Known::Bool(a), Known::Bool(b)) => a == b,
                (Known::Str(a), Known::Str(b)) => a == b,
                _ => return None,
            };
            Some(Known::Bool(if op == "==" { same } else { !same }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn check(policy: &str, name: &str, sensitive: bool, expect: bool) {
        let policy = Policy::from_str(policy).unwrap();
        let uid = EntityUid::from_str(&format!("Field::\"{name}\"")).unwrap();
        let field = FieldView {
            uid: &uid,
            name,
            sensitive,
        };
        assert_eq!(may_apply(&policy, &field), expect, "{policy} on {name}");
    }

    fn guard_of(policy: &str) -> Option<String> {
        let policy = Policy::from_str(policy).unwrap();
        let uids: Vec<EntityUid> = ["name", "id_document"]
            .iter()
            .map(|n| EntityUid::from_str(&format!("Field::\"{n}\"")).unwrap())
            .collect();
        let fields = [
            FieldView {
                uid: &uids[0],
                name: "name",
                sensitive: false,
            },
            FieldView {
                uid: &uids[1],
                name: "id_document",
                sensitive: true,
            },
        ];
        guard(&policy, &fields).map(|g| {
            g.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    #[test]
    fn guards_keep_the_request_level_conjuncts_before_the_first_field_dependent_one() {
        let guard = guard_of(
            "forbid (principal, action, resource) when { principal.require_approval } \
             unless { context.live_contact && resource.name == \"x\" };",
        )
        .unwrap();
        assert!(guard.starts_with("permit"), "{guard}");
        assert!(guard.contains("require_approval"), "{guard}");
        // The `unless` reads `resource.name`, not a boolean for every field.
        assert!(!guard.contains("live_contact"), "{guard}");
        // `resource.sensitive` is a boolean for every field: skipped.
        let guard = guard_of(
            "forbid (principal, action, resource) when { resource.sensitive && \
             !context.live_contact && context has ticket } unless { context.purpose like \"a*\" };",
        )
        .unwrap();
        assert!(guard.contains("live_contact"), "{guard}");
        assert!(guard.contains("like"), "{guard}");
        assert!(!guard.contains("sensitive"), "{guard}");
        // A field-dependent first conjunct, or one reading `action`: no guard.
        assert_eq!(
            guard_of(
                "forbid (principal, action, resource) unless { context.category.fields.contains(resource.name) };"
            ),
            None
        );
        assert_eq!(
            guard_of(
                "forbid (principal, action, resource) when { action == Action::\"view\" && principal.suspended };"
            ),
            None
        );
        // A missing attribute of `resource` is not a boolean: the guard stops there.
        let guard = guard_of(
            "forbid (principal, action, resource) when { principal.suspended && resource.rank && context.live_contact };",
        )
        .unwrap();
        assert!(!guard.contains("live_contact"), "{guard}");
    }

    #[test]
    fn only_policies_false_for_the_field_are_dropped() {
        let reveal_guard = "forbid (principal, action, resource) when { resource.sensitive } \
                            unless { context.live_contact };";
        check(reveal_guard, "name", false, false);
        check(reveal_guard, "id_document", true, true);
        // A conjunct after one the analysis cannot settle decides nothing:
        // the first could error.
        check(
            "forbid (principal, action, resource) when { context.live_contact && resource.sensitive };",
            "name",
            false,
            true,
        );
        check(
            "forbid (principal, action, resource) when { resource.sensitive && context.live_contact };",
            "name",
            false,
            false,
        );
        check(
            "permit (principal, action, resource == Field::\"email\");",
            "name",
            false,
            false,
        );
        check(
            "permit (principal, action, resource == Field::\"email\");",
            "email",
            false,
            true,
        );
        check(
            "permit (principal, action, resource) when { resource.name == \"email\" || resource.name == \"phone\" };",
            "phone",
            false,
            true,
        );
        check(
            "permit (principal, action, resource) when { resource.name == \"email\" || resource.name == \"phone\" };",
            "name",
            false,
            false,
        );
        check(
            "permit (principal, action, resource) unless { resource.name != \"dob\" };",
            "name",
            false,
            false,
        );
        // A missing attribute errors in Cedar: kept, so Cedar reports it.
        check(
            "permit (principal, action, resource) when { resource.rank == \"x\" };",
            "name",
            false,
            true,
        );
        // Comparisons across kinds stay with Cedar.
        check(
            "permit (principal, action, resource) when { resource.name == true };",
            "name",
            false,
            true,
        );
    }
}

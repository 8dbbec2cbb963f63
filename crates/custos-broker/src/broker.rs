//! The broker: `(request, &policies, &facts) -> Decision`, pure and sync.
//! The caller looks the facts up; the broker evaluates the policy slice of
//! the request's action once per field and fails closed on anything odd.

use crate::error::BrokerError;
use crate::index::{FieldView, guard, may_apply};
use crate::policy::{CedarAction, LIVE_CONTACT_CATEGORY, Policies};
use crate::types::{
    AccessRequest, Decision, Facts, FieldDecision, GrantStatus, Obligation, Outcome, Reason,
};
use crate::watermark::{WATERMARK_KEY_LEN, WatermarkKey, watermark_token};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, EvaluationError,
    PolicySet, Request, RestrictedExpression,
};
use custos_core::alert::ResponseAction;
use custos_core::event::{AccessAction, FieldClass, OpenedBy};
use custos_core::time::Span;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

/// How old a step-up may be for a sensitive reveal. The shipped
/// `guards.cedar` states the same bound; the broker enforces it as a floor
/// whatever the policies say.
pub const STEP_UP_MAX_AGE: Span = Span::from_minutes(5);

/// What the broker is configured with besides the policies.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// Field classes revealed only with an approved grant and a step-up.
    pub sensitive_fields: Vec<FieldClass>,
    /// Key of the screen watermark tokens.
    pub watermark_key: WatermarkKey,
}

impl Default for BrokerConfig {
    /// The sensitive fields; an all-zero watermark key, to be
    /// replaced by a secret key in any deployment.
    fn default() -> BrokerConfig {
        BrokerConfig {
            sensitive_fields: vec![
                FieldClass::IdDocument,
                FieldClass::NationalId,
                FieldClass::BankAccount,
            ],
            watermark_key: WatermarkKey::from_bytes([0; WATERMARK_KEY_LEN]),
        }
    }
}

/// The access broker: validated policies sliced per action, plus the entities
/// that do not change between requests (fields, categories).
#[derive(Debug)]
pub struct Broker {
    policies: Policies,
    config: BrokerConfig,
    authorizer: Authorizer,
    field_entities: HashMap<FieldClass, Entity>,
    category_entities: HashMap<String, Entity>,
    names: TypeNames,
    /// Per field class, the per-field policies that can apply to it.
    field_plans: HashMap<FieldClass, FieldPlan>,
    /// Stands in for a part with no policy in the reference evaluation.
    empty: PolicySet,
    /// Per [`CedarAction`] of the request (`reveal`: the guards of `view`
    /// and `reveal`), the guards of its per-field policies.
    guards: Vec<PolicySet>,
}

/// The per-field policies of each action that can apply to one field class
/// (see [`crate::index`]), built at load.
#[derive(Debug)]
struct FieldPlan {
    /// Indexed by [`CedarAction`].
    field: Vec<Variants>,
    /// The `reveal` per-field policies not shared with `view`
    /// (`Policies::reveal_shares_view_field`).
    reveal_only: Variants,
}

/// At most this many guarded policies of a set can be dropped by their
/// guards (the set has `2^n` variants); the others are always evaluated.
const MAX_GUARDED: usize = 5;

/// A set of per-field policies, once for every combination of its guarded
/// policies a request's guards can drop (see [`crate::index::guard`]).
#[derive(Debug)]
struct Variants {
    /// The guarded policies' ids.
    guarded: Vec<String>,
    /// Indexed by a mask whose bit `i` keeps `guarded[i]`.
    sets: Vec<PolicySet>,
}

impl Variants {
    fn new(
        policies: &[&cedar_policy::Policy],
        guards: &HashMap<String, cedar_policy::Policy>,
    ) -> Result<Variants, BrokerError> {
        let guarded: Vec<String> = policies
            .iter()
            .map(|p| p.id().to_string())
            .filter(|id| guards.contains_key(id))
            .take(MAX_GUARDED)
            .collect();
        let mut sets = Vec::with_capacity(1 << guarded.len());
        for mask in 0..(1usize << guarded.len()) {
            let mut set = PolicySet::new();
            for policy in policies {
                let id = policy.id().to_string();
                let kept = guarded
                    .iter()
                    .position(|g| g == &id)
                    .is_none_or(|bit| mask & (1 << bit) != 0);
                if kept {
                    set.add((*policy).clone())
                        .map_err(|_| BrokerError::DuplicatePolicyId { id })?;
                }
            }
            sets.push(set);
        }
        Ok(Variants { guarded, sets })
    }

    /// The set without the policies whose guards were false.
    fn pick(&self, dropped: &[String]) -> Option<&PolicySet> {
        let mask = self
            .guarded
            .iter()
            .enumerate()
            .filter(|(_, id)| !dropped.contains(id))
            .fold(0usize, |mask, (bit, _)| mask | (1 << bit));
        self.sets.get(mask)
    }
}

/// How `decide` evaluates: the fast path, or one of the references it must
/// agree with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Request part once, per-field part from the field index, `reveal`
    /// reusing the `view` result of the policies the two share.
    Indexed,
    /// Request part once, the whole per-field part of the action per field
    /// (the broker before the index).
    Sliced,
    /// The whole action slice per field, one Cedar call each.
    Unsliced,
}

/// A failure to put a request into Cedar terms: the broker denies.
struct Construction(&'static str);

impl Broker {
    /// The shipped policies, schema and category table, with the default
    /// configuration.
    pub fn default_policies() -> Result<Broker, BrokerError> {
        Broker::new(Policies::defaults()?, BrokerConfig::default())
    }

    /// Policies from a directory: every `*.cedar` file, `schema.cedarschema`
    /// and `categories.json`. Validated against the schema before use.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Broker, BrokerError> {
        Broker::new(Policies::from_dir(path.as_ref())?, BrokerConfig::default())
    }

    /// The same policies under another configuration.
    pub fn with_config(self, config: BrokerConfig) -> Result<Broker, BrokerError> {
        Broker::new(self.policies, config)
    }

    fn new(policies: Policies, config: BrokerConfig) -> Result<Broker, BrokerError> {
        let names = TypeNames::new()?;
        let mut field_entities = HashMap::new();
        for &field in FieldClass::ALL {
            let attrs = HashMap::from([
                (
                    "name".to_owned(),
                    RestrictedExpression::new_string(field.as_str().to_owned()),
                ),
                (
                    "sensitive".to_owned(),
                    RestrictedExpression::new_bool(config.sensitive_fields.contains(&field)),
                ),
            ]);
            let entity = Entity::new(uid(&names.field, field.as_str()), attrs, HashSet::new())
                .map_err(|e| BrokerError::Schema {
                    message: e.to_string(),
                })?;
            field_entities.insert(field, entity);
        }
        let mut category_entities = HashMap::new();
        for (name, fields) in &policies.categories {
            let set = RestrictedExpression::new_set(
                fields
                    .iter()
                    .map(|f| RestrictedExpression::new_string(f.as_str().to_owned())),
            );
            let entity = Entity::new(
                uid(&names.category, name),
                HashMap::from([("fields".to_owned(), set)]),
                HashSet::new(),
            )
            .map_err(|e| BrokerError::Categories {
                message: e.to_string(),
            })?;
            category_entities.insert(name.clone(), entity);
        }
        let (field_plans, guards) = field_plans(&policies, &config, &names)?;
        Ok(Broker {
            policies,
            config,
            authorizer: Authorizer::new(),
            field_entities,
            category_entities,
            names,
            field_plans,
            empty: PolicySet::new(),
            guards,
        })
    }

    /// Validates the policies against the schema (strict mode), for
    /// `custos policy check`. Loading already did; this re-checks on demand.
    pub fn validate(&self) -> Result<(), BrokerError> {
        self.policies.validate()
    }

    /// The configured sensitive field classes.
    pub fn is_sensitive(&self, field: FieldClass) -> bool {
        self.config.sensitive_fields.contains(&field)
    }

    /// Number of policies in each action's slice (view, reveal, search,
    /// export), as (evaluated once per request, evaluated per field), and
    /// in all: slicing at work.
    pub fn slice_sizes(&self) -> ([(usize, usize); 4], usize) {
        let mut sizes = [(0, 0); 4];
        for action in CedarAction::ALL {
            let count = |part| {
                self.policies
                    .slice(action, part)
                    .map_or(0, |s| s.policies().count())
            };
            sizes[action as usize] = (count(Part::Request), count(Part::Field));
        }
        (sizes, self.policies.full.policies().count())
    }

    /// Decides what `req.agent` sees of each requested field. Pure: the same
    /// request and facts always give the same decision.
    pub fn decide(&self, req: &AccessRequest, facts: &Facts) -> Decision {
        self.decide_in(req, facts, Mode::Indexed)
    }

    /// The decision without the field index: the request part once, the
    /// action's whole per-field part for every field. Gives the same
    /// decision as [`Broker::decide`]; kept as the reference of the
    /// differential test and the bench's baseline.
    #[doc(hidden)]
    pub fn decide_without_field_index(&self, req: &AccessRequest, facts: &Facts) -> Decision {
        self.decide_in(req, facts, Mode::Sliced)
    }

    /// The decision from the plain, unsplit action slice evaluated by Cedar
    /// once per field: the same outcomes and obligations as
    /// [`Broker::decide`] (reasons may differ where two parts fail at once:
    /// the split evaluation reports the request part's).
    #[doc(hidden)]
    pub fn decide_unsliced(&self, req: &AccessRequest, facts: &Facts) -> Decision {
        self.decide_in(req, facts, Mode::Unsliced)
    }

    fn decide_in(&self, req: &AccessRequest, facts: &Facts, mode: Mode) -> Decision {
        let mut fields: Vec<FieldClass> = Vec::with_capacity(req.fields.len());
        for &field in &req.fields {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        if fields.is_empty() {
            return deny_all(
                &fields,
                Reason::new("no_fields", "the request names no field"),
            );
        }
        if facts.agent.is_none() {
            return deny_all(
                &fields,
                Reason::new(
                    "unknown_agent",
                    "the requesting agent is not in the directory",
                ),
            );
        }
        let ticket = match (&req.ticket, &facts.ticket) {
            (None, _) => None,
            (Some(asked), Some(known)) if &known.id == asked => Some(known),
            (Some(_), _) => {
                return deny_all(
                    &fields,
                    Reason::new(
                        "unknown_ticket",
                        "the requested ticket is not in the directory",
                    ),
                );
            }
        };
        let built = self
            .entities(req, facts, ticket, &fields)
            .and_then(|entities| Ok((entities, self.context(req, facts, ticket)?)));
        let (entities, context) = match built {
            Ok(parts) => parts,
            Err(Construction(kind)) => {
                return deny_all(
                    &fields,
                    Reason::new(
                        "request_construction",
                        format!("cannot build the request: {kind}"),
                    ),
                );
            }
        };
        let principal = uid(&self.names.agent, req.agent.as_str());
        // Request-level policies never read `resource`: any field stands in.
        let stand_in = uid(&self.names.field, fields[0].as_str());
        let base_action = match req.action {
            AccessAction::View | AccessAction::Reveal => CedarAction::View,
            AccessAction::Search => CedarAction::Search,
            AccessAction::Export => CedarAction::Export,
        };
        let evaluate_request_part = |action| {
            let set = match mode {
                Mode::Indexed | Mode::Sliced => self.policies.slice(action, Part::Request),
                Mode::Unsliced => Some(&self.empty),
            };
            self.evaluate(action, set, &principal, &stand_in, &context, &entities)
        };
        let base = evaluate_request_part(base_action);
        let reveal = (req.action == AccessAction::Reveal).then(|| {
            if self.policies.reveal_shares_view_request_part && mode != Mode::Unsliced {
                base.clone()
            } else {
                evaluate_request_part(CedarAction::Reveal)
            }
        });
        let request_action = match req.action {
            AccessAction::Reveal => CedarAction::Reveal,
            _ => base_action,
        };
        // Guards only matter when fields get to their per-field part.
        let dropped = match (&base, mode) {
            (Ok(part), Mode::Indexed) if part.forbids.is_empty() => {
                self.dropped_by_guards(request_action, &principal, &stand_in, &context, &entities)
            }
            _ => Vec::new(),
        };
        let request_parts = RequestParts {
            base_action,
            base,
            reveal,
            principal: principal.clone(),
            dropped,
        };
        let decisions: Vec<FieldDecision> = fields
            .iter()
            .map(|&field| {
                self.decide_field(req, facts, &entities, &context, &request_parts, field, mode)
            })
            .collect();
        let denied = decisions.iter().all(|d| d.outcome == Outcome::Hidden);
        let reasons = if denied {
            vec![Reason::new("denied", "no requested field may be shown")]
        } else {
            Vec::new()
        };
        Decision {
            fields: decisions,
            denied,
            reasons,
        }
    }

    fn entities(
        &self,
        req: &AccessRequest,
        facts: &Facts,
        ticket: Option<&crate::types::TicketFacts>,
        fields: &[FieldClass],
    ) -> Result<Entities, Construction> {
        let mut entities = Vec::with_capacity(fields.len() + 3);
        let agent = facts.agent.as_ref().ok_or(Construction("unknown agent"))?;
        let agent_attrs = HashMap::from([
            (
                "role".to_owned(),
                RestrictedExpression::new_string(agent.role.clone()),
            ),
            (
                "team".to_owned(),
                RestrictedExpression::new_string(agent.team.clone()),
            ),
            (
                "suspended".to_owned(),
                RestrictedExpression::new_bool(
                    facts
                        .countermeasures
                        .contains(&ResponseAction::SuspendAccess),
                ),
            ),
            (
                "require_approval".to_owned(),
                RestrictedExpression::new_bool(
                    facts
                        .countermeasures
                        .contains(&ResponseAction::RequireApproval),
                ),
            ),
        ]);
        entities.push(
            Entity::new(
                uid(&self.names.agent, req.agent.as_str()),
                agent_attrs,
                HashSet::new(),
            )
            .map_err(|_| Construction("agent entity"))?,
        );
        if let Some(ticket) = ticket {
            let mut attrs = HashMap::from([
                (
                    "status".to_owned(),
                    RestrictedExpression::new_string(ticket.status.as_str().to_owned()),
                ),
                (
                    "category".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(
                        &self.names.category,
                        &ticket.category,
                    )),
                ),
                (
                    "customer".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(
                        &self.names.customer,
                        ticket.customer.as_str(),
                    )),
                ),
                (
                    "opened_by".to_owned(),
                    RestrictedExpression::new_string(
                        ticket
                            .opened_by
                            .map_or("unknown", OpenedBy::as_str)
                            .to_owned(),
                    ),
                ),
            ]);
            if let Some(assignee) = &ticket.assigned_agent {
                attrs.insert(
                    "assignee".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(&self.names.agent, assignee.as_str())),
                );
            }
            entities.push(
                Entity::new(
                    uid(&self.names.ticket, ticket.id.as_str()),
                    attrs,
                    HashSet::new(),
                )
                .map_err(|_| Construction("ticket entity"))?,
            );
        }
        // INVARIANT: an unknown category is left out of the entities, so any
        // policy reading it errors and the field is hidden (fail closed).
        let category = ticket.map_or(LIVE_CONTACT_CATEGORY, |t| t.category.as_str());
        if let Some(entity) = self.category_entities.get(category) {
            entities.push(entity.clone());
        }
        for field in fields {
            if let Some(entity) = self.field_entities.get(field) {
                entities.push(entity.clone());
            }
        }
        Entities::from_entities(entities, None).map_err(|_| Construction("duplicate entity"))
    }

    /// The full grant check, done in Rust as well as in the policies: the
    /// floor no policy edit can lower.
    fn grant_allows(req: &AccessRequest, facts: &Facts, field: FieldClass) -> bool {
        let Some(grant) = &facts.grant else {
            return false;
        };
        grant.status == GrantStatus::Approved
            && grant
                .approver
                .as_ref()
                .is_some_and(|approver| approver != &req.agent)
            && grant.requester == req.agent
            && req.ticket.as_ref() == Some(&grant.ticket)
            && grant.customer == req.customer
            && grant.fields.contains(&field)
            && facts.now < grant.expires_at
            && grant.reveals_remaining > 0
    }

    fn step_up_fresh(facts: &Facts) -> bool {
        facts
            .step_up_at
            .is_some_and(|at| at <= facts.now && facts.now.since(at) <= STEP_UP_MAX_AGE)
    }

    /// The context of every field's request: one per request, since
    /// nothing in it depends on the field.
    fn context(
        &self,
        req: &AccessRequest,
        facts: &Facts,
        ticket: Option<&crate::types::TicketFacts>,
    ) -> Result<Context, Construction> {
        let category = ticket.map_or(LIVE_CONTACT_CATEGORY, |t| t.category.as_str());
        let mut pairs = vec![
            (
                "customer".to_owned(),
                RestrictedExpression::new_entity_uid(uid(
                    &self.names.customer,
                    req.customer.as_str(),
                )),
            ),
            (
                "purpose".to_owned(),
                RestrictedExpression::new_string(req.purpose.trim().to_owned()),
            ),
            (
                "live_contact".to_owned(),
                RestrictedExpression::new_bool(facts.live_contact),
            ),
            (
                "now".to_owned(),
                RestrictedExpression::new_long(facts.now.as_micros()),
            ),
            (
                "category".to_owned(),
                RestrictedExpression::new_entity_uid(uid(&self.names.category, category)),
            ),
        ];
        if let Some(ticket) = ticket {
            pairs.push((
                "ticket".to_owned(),
                RestrictedExpression::new_entity_uid(uid(&self.names.ticket, ticket.id.as_str())),
            ));
        }
        if let Some(grant) = &facts.grant {
            // A grant with no approver yet is not approved; its approver slot
            // names the requester, which every policy refuses.
            let approver = grant.approver.as_ref().unwrap_or(&grant.requester);
            let matches_request =
                req.ticket.as_ref() == Some(&grant.ticket) && grant.customer == req.customer;
            let fields = RestrictedExpression::new_set(
                grant
                    .fields
                    .iter()
                    .map(|f| RestrictedExpression::new_string(f.as_str().to_owned())),
            );
            let record = RestrictedExpression::new_record([
                (
                    "approved".to_owned(),
                    RestrictedExpression::new_bool(
                        grant.status == GrantStatus::Approved && grant.approver.is_some(),
                    ),
                ),
                (
                    "requester".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(
                        &self.names.agent,
                        grant.requester.as_str(),
                    )),
                ),
                (
                    "approver".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(&self.names.agent, approver.as_str())),
                ),
                (
                    "expires_at".to_owned(),
                    RestrictedExpression::new_long(grant.expires_at.as_micros()),
                ),
                (
                    "reveals_remaining".to_owned(),
                    RestrictedExpression::new_long(i64::from(grant.reveals_remaining)),
                ),
                (
                    "matches_request".to_owned(),
                    RestrictedExpression::new_bool(matches_request),
                ),
                ("fields".to_owned(), fields),
            ])
            .map_err(|_| Construction("grant record"))?;
            pairs.push(("grant".to_owned(), record));
        }
        if let Some(at) = facts.step_up_at {
            pairs.push((
                "step_up_at".to_owned(),
                RestrictedExpression::new_long(at.as_micros()),
            ));
        }
        Context::from_pairs(pairs).map_err(|_| Construction("context"))
    }

    /// Evaluates one part of an action's slice. `Err` carries the reasons
    /// of an evaluation error: the caller hides the field (fail closed, even
    /// where Cedar would skip an erroring `forbid`).
    fn evaluate(
        &self,
        action: CedarAction,
        set: Option<&PolicySet>,
        principal: &EntityUid,
        resource: &EntityUid,
        context: &Context,
        entities: &Entities,
    ) -> Result<PartResult, Vec<Reason>> {
        let (Some(slice), Some(action_uid)) = (set, self.policies.action_uid(action)) else {
            return Err(vec![Reason::new(
                "policy_missing",
                format!("no policy slice for `{}`", action.name()),
            )]);
        };
        let request = Request::new(
            principal.clone(),
            action_uid.clone(),
            resource.clone(),
            context.clone(),
            None,
        )
        .map_err(|_| {
            vec![Reason::new(
                "request_construction",
                "cannot build the request: request",
            )]
        })?;
        if slice.is_empty() {
            // What Cedar answers for no policy: deny, nothing satisfied.
            return Ok(PartResult {
                permits: Vec::new(),
                forbids: Vec::new(),
            });
        }
        let response = self.authorizer.is_authorized(&request, slice, entities);
        let errors: Vec<Reason> = response
            .diagnostics()
            .errors()
            .map(
                |cedar_policy::AuthorizationError::PolicyEvaluationError(e)| {
                    Reason::new(
                        "evaluation_error",
                        format!(
                            "policy `{}` failed on `{}`: {}",
                            e.policy_id(),
                            action.name(),
                            error_kind(e.inner())
                        ),
                    )
                },
            )
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        ids.sort();
        // Cedar names the satisfied permits when it allows and the satisfied
        // forbids when it denies (none when no permit matched).
        Ok(match response.decision() {
            cedar_policy::Decision::Allow => PartResult {
                permits: ids,
                forbids: Vec::new(),
            },
            cedar_policy::Decision::Deny => PartResult {
                permits: Vec::new(),
                forbids: ids,
            },
        })
    }

    /// The ids of the per-field policies whose guards are false without
    /// error for this request: false for every field, so left out.
    fn dropped_by_guards(
        &self,
        request_action: CedarAction,
        principal: &EntityUid,
        stand_in: &EntityUid,
        context: &Context,
        entities: &Entities,
    ) -> Vec<String> {
        let (Some(guards), Some(action_uid)) = (
            self.guards.get(request_action as usize),
            self.policies.action_uid(request_action),
        ) else {
            return Vec::new();
        };
        if guards.is_empty() {
            return Vec::new();
        }
        let Ok(request) = Request::new(
            principal.clone(),
            action_uid.clone(),
            stand_in.clone(),
            context.clone(),
            None,
        ) else {
            return Vec::new();
        };
        let response = self.authorizer.is_authorized(&request, guards, entities);
        let errored: Vec<String> = response
            .diagnostics()
            .errors()
            .map(
                |cedar_policy::AuthorizationError::PolicyEvaluationError(e)| {
                    e.policy_id().to_string()
                },
            )
            .collect();
        // Guards are permits: on allow Cedar names the satisfied ones, on
        // deny none is satisfied.
        let satisfied: Vec<String> = match response.decision() {
            cedar_policy::Decision::Allow => response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect(),
            cedar_policy::Decision::Deny => Vec::new(),
        };
        guards
            .policies()
            .map(|p| p.id().to_string())
            .filter(|id| !errored.contains(id) && !satisfied.contains(id))
            .collect()
    }

    /// The two parts of an action's slice, combined as one Cedar evaluation
    /// would: any satisfied forbid denies, else any satisfied permit allows,
    /// else nothing permits. The request part is evaluated once per request.
    fn combine(
        &self,
        action: CedarAction,
        request_part: &Result<PartResult, Vec<Reason>>,
        field_part: impl FnOnce() -> Result<PartResult, Vec<Reason>>,
        reasons: &mut Vec<Reason>,
    ) -> Result<bool, Vec<Reason>> {
        let request_part = request_part.as_ref().map_err(Clone::clone)?;
        let reason = |id: &String| {
            let detail = self.policies.reasons.get(id).cloned().unwrap_or_default();
            Reason::new(id.clone(), detail)
        };
        if !request_part.forbids.is_empty() {
            reasons.extend(request_part.forbids.iter().map(reason));
            return Ok(false);
        }
        let field_part = field_part()?;
        if !field_part.forbids.is_empty() {
            reasons.extend(field_part.forbids.iter().map(reason));
            return Ok(false);
        }
        if request_part.permits.is_empty() && field_part.permits.is_empty() {
            reasons.push(Reason::new(
                "no_permit",
                format!("no policy permits `{}`", action.name()),
            ));
            return Ok(false);
        }
        reasons.extend(
            request_part
                .permits
                .iter()
                .chain(&field_part.permits)
                .map(reason),
        );
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_field(
        &self,
        req: &AccessRequest,
        facts: &Facts,
        entities: &Entities,
        context: &Context,
        request_parts: &RequestParts,
        field: FieldClass,
        mode: Mode,
    ) -> FieldDecision {
        let sensitive = self.is_sensitive(field);
        let grant_ok = Broker::grant_allows(req, facts, field);
        let step_up_ok = Broker::step_up_fresh(facts);
        let under_approval = facts
            .countermeasures
            .contains(&ResponseAction::RequireApproval);
        let mut obligations = Vec::new();
        if under_approval && !grant_ok {
            obligations.push(Obligation::ApprovalNeeded);
        }
        let hidden = |reasons: Vec<Reason>, obligations: Vec<Obligation>| FieldDecision {
            field,
            outcome: Outcome::Hidden,
            obligations,
            reasons,
        };
        let principal = &request_parts.principal;
        let resource = uid(&self.names.field, field.as_str());
        let plan = self.field_plans.get(&field);
        let field_set = |action: CedarAction| match mode {
            Mode::Indexed => plan
                .and_then(|p| p.field.get(action as usize))
                .and_then(|v| v.pick(&request_parts.dropped)),
            Mode::Sliced => self.policies.slice(action, Part::Field),
            Mode::Unsliced => self.policies.whole_slice(action),
        };
        let mut reasons = Vec::new();
        let mut base_field_part = None;
        let base = self.combine(
            request_parts.base_action,
            &request_parts.base,
            || {
                let result = self.evaluate(
                    request_parts.base_action,
                    field_set(request_parts.base_action),
                    principal,
                    &resource,
                    context,
                    entities,
                );
                if let Ok(part) = &result {
                    base_field_part = Some(part.permits.clone());
                }
                result
            },
            &mut reasons,
        );
        match base {
            Err(errors) => return hidden(errors, obligations),
            Ok(false) => return hidden(reasons, obligations),
            Ok(true) => {}
        }
        let mut outcome = Outcome::Masked;
        if let Some(reveal_request_part) = &request_parts.reveal {
            let reveal = self.combine(
                CedarAction::Reveal,
                reveal_request_part,
                || match (mode, plan) {
                    (Mode::Indexed, Some(plan)) => {
                        // INVARIANT: `view` passed, so its per-field part
                        // raised no error and satisfied no forbid; of the
                        // policies `reveal` shares with it, exactly the
                        // permits it names are satisfied for `reveal` too.
                        let own = self.evaluate(
                            CedarAction::Reveal,
                            plan.reveal_only.pick(&request_parts.dropped),
                            principal,
                            &resource,
                            context,
                            entities,
                        )?;
                        if !own.forbids.is_empty() {
                            return Ok(own);
                        }
                        let mut permits = own.permits;
                        permits.extend(
                            base_field_part
                                .iter()
                                .flatten()
                                .filter(|id| self.policies.reveal_shares_view_field.contains(id))
                                .cloned(),
                        );
                        permits.sort();
                        Ok(PartResult {
                            permits,
                            forbids: Vec::new(),
                        })
                    }
                    _ => self.evaluate(
                        CedarAction::Reveal,
                        field_set(CedarAction::Reveal),
                        principal,
                        &resource,
                        context,
                        entities,
                    ),
                },
                &mut reasons,
            );
            match reveal {
                Err(errors) => return hidden(errors, obligations),
                Ok(true) if sensitive && !(grant_ok && step_up_ok) => {
                    // INVARIANT: a sensitive field is revealed only with an
                    // approved grant from another person and a fresh step-up,
                    // whatever the policies say.
                    reasons.push(Reason::new(
                        "sensitive_floor",
                        "the broker requires an approved grant and a fresh step-up for a sensitive field",
                    ));
                }
                Ok(true) => outcome = Outcome::Revealed,
                Ok(false) => {}
            }
            if outcome == Outcome::Masked && sensitive {
                if !grant_ok && !obligations.contains(&Obligation::ApprovalNeeded) {
                    obligations.push(Obligation::ApprovalNeeded);
                }
                if !step_up_ok {
                    obligations.push(Obligation::StepUpNeeded);
                }
            }
        }
        if outcome == Outcome::Revealed {
            let token = watermark_token(
                &self.config.watermark_key,
                &req.agent,
                req.ticket.as_ref(),
                facts.now,
            );
            obligations.push(Obligation::Watermark { token });
        }
        FieldDecision {
            field,
            outcome,
            obligations,
            reasons,
        }
    }
}

/// Which policies of a slice: those that never read `resource` (evaluated
/// once per request) or the rest (once per field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Request = 0,
    Field = 1,
}

/// What one part's evaluation found: the satisfied permits and forbids.
#[derive(Clone, Debug)]
struct PartResult {
    permits: Vec<String>,
    forbids: Vec<String>,
}

/// The request-level evaluations shared by every field of a request.
struct RequestParts {
    principal: EntityUid,
    base_action: CedarAction,
    base: Result<PartResult, Vec<Reason>>,
    reveal: Option<Result<PartResult, Vec<Reason>>>,
    /// Per-field policies left out by their guards (fast path only).
    dropped: Vec<String>,
}

fn deny_all(fields: &[FieldClass], reason: Reason) -> Decision {
    Decision {
        fields: fields
            .iter()
            .map(|&field| FieldDecision {
                field,
                outcome: Outcome::Hidden,
                obligations: Vec::new(),
                reasons: vec![reason.clone()],
            })
            .collect(),
        denied: true,
        reasons: vec![reason],
    }
}

/// The field index: for every field class, each action's per-field
/// policies that may apply to it, in slice order, in variants for what the
/// guards drop; and per request action, the guards to evaluate.
fn field_plans(
    policies: &Policies,
    config: &BrokerConfig,
    names: &TypeNames,
) -> Result<(HashMap<FieldClass, FieldPlan>, Vec<PolicySet>), BrokerError> {
    let field_uids: Vec<(FieldClass, EntityUid)> = FieldClass::ALL
        .iter()
        .map(|&field| (field, uid(&names.field, field.as_str())))
        .collect();
    let views: Vec<FieldView<'_>> = field_uids
        .iter()
        .map(|(field, field_uid)| FieldView {
            uid: field_uid,
            name: field.as_str(),
            sensitive: config.sensitive_fields.contains(field),
        })
        .collect();
    let field_part = |action| {
        policies
            .slice(action, Part::Field)
            .into_iter()
            .flat_map(PolicySet::policies)
    };
    let mut guard_of = HashMap::new();
    for action in CedarAction::ALL {
        for policy in field_part(action) {
            if let Some(guard) = guard(policy, &views) {
                guard_of.insert(policy.id().to_string(), guard);
            }
        }
    }
    let mut guards = Vec::with_capacity(CedarAction::ALL.len());
    for action in CedarAction::ALL {
        let mut set = PolicySet::new();
        let mut actions = vec![action];
        if action == CedarAction::Reveal {
            actions.insert(0, CedarAction::View);
        }
        for &source in &actions {
            for policy in field_part(source) {
                let id = policy.id().to_string();
                if let Some(guard) = guard_of.get(&id)
                    && set.policy(guard.id()).is_none()
                {
                    set.add(guard.clone())
                        .map_err(|_| BrokerError::DuplicatePolicyId { id })?;
                }
            }
        }
        guards.push(set);
    }
    let mut plans = HashMap::new();
    for (view, (field, _)) in views.iter().zip(&field_uids) {
        let pick = |action: CedarAction, keep: &dyn Fn(&cedar_policy::Policy) -> bool| {
            let picked: Vec<&cedar_policy::Policy> = field_part(action)
                .filter(|p| may_apply(p, view) && keep(p))
                .collect();
            Variants::new(&picked, &guard_of)
        };
        let mut per_action = Vec::with_capacity(CedarAction::ALL.len());
        for action in CedarAction::ALL {
            per_action.push(pick(action, &|_| true)?);
        }
        let reveal_only = pick(CedarAction::Reveal, &|p| {
            !policies
                .reveal_shares_view_field
                .contains(&p.id().to_string())
        })?;
        plans.insert(
            *field,
            FieldPlan {
                field: per_action,
                reveal_only,
            },
        );
    }
    Ok((plans, guards))
}

fn uid(type_name: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
}

/// The schema's entity type names, parsed once: parsing one costs more than
/// a whole policy evaluation.
#[derive(Debug)]
struct TypeNames {
    agent: EntityTypeName,
    customer: EntityTypeName,
    ticket: EntityTypeName,
    category: EntityTypeName,
    field: EntityTypeName,
}

impl TypeNames {
    fn new() -> Result<TypeNames, BrokerError> {
        let parse = |name: &str| {
            EntityTypeName::from_str(name).map_err(|e| BrokerError::Schema {
                message: e.to_string(),
            })
        };
        Ok(TypeNames {
            agent: parse("Agent")?,
            customer: parse("Customer")?,
            ticket: parse("Ticket")?,
            category: parse("Category")?,
            field: parse("Field")?,
        })
    }
}

/// The kind of an evaluation error, never its text: texts can quote values.
fn error_kind(error: &EvaluationError) -> &'static str {
    match error {
        EvaluationError::EntityDoesNotExist(_) => "entity_does_not_exist",
        EvaluationError::EntityAttrDoesNotExist(_) => "entity_attr_does_not_exist",
        EvaluationError::RecordAttrDoesNotExist(_) => "record_attr_does_not_exist",
        EvaluationError::FailedExtensionFunctionLookup(_) => "failed_extension_function_lookup",
        EvaluationError::TypeError(_) => "type_error",
        EvaluationError::WrongNumArguments(_) => "wrong_num_arguments",
        EvaluationError::IntegerOverflow(_) => "integer_overflow",
        EvaluationError::UnlinkedSlot(_) => "unlinked_slot",
        EvaluationError::FailedExtensionFunctionExecution(_) => {
            "failed_extension_function_execution"
        }
        EvaluationError::NonValue(_) => "non_value",
        EvaluationError::RecursionLimit(_) => "recursion_limit",
        // Variants behind cedar features this build may not enable.
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

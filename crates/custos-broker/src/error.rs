//! Errors of loading and checking policies. A decision is never an error:
//! evaluation failures are reasons inside the [`crate::Decision`].

/// Why a policy directory, the schema, the category table or a cases file
/// could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot read `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("no `*.cedar` policy file in `{path}`")]
    NoPolicies { path: String },
    #[error("policy file `{file}` does not parse: {message}")]
    PolicyParse { file: String, message: String },
    #[error("a policy in `{file}` has no `@id(\"...\")` annotation")]
    MissingPolicyId { file: String },
    #[error("policy id `{id}` is used twice")]
    DuplicatePolicyId { id: String },
    #[error("the schema does not parse: {message}")]
    Schema { message: String },
    #[error("policies do not validate against the schema: {}", problems.join("; "))]
    Invalid { problems: Vec<String> },
    #[error("the category table is invalid: {message}")]
    Categories { message: String },
    #[error("the cases file is invalid: {message}")]
    Cases { message: String },
}

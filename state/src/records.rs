//! The rows of the state database, as Rust values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One resource as it exists in the cloud, as far as the state knows. (Its `Debug` masks
/// secret values.)
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// Row identity. Two records share a name for the time between a create-before-delete
    /// replacement's create and its delete; `seq` tells them apart.
    pub seq: i64,
    /// The resource's name in the program (`network/vpc`).
    pub name: String,
    /// Resource type token, e.g. `aws:ec2/Vpc`.
    pub ty: String,
    /// Name of the provider instance that manages it.
    pub provider: String,
    /// The provider's identifier (e.g. `vpc-0abc`).
    pub id: String,
    /// Inputs as last applied (secret values are stored encrypted by the engine).
    pub inputs: Value,
    /// Outputs as last read from the provider.
    pub outputs: Value,
    /// Names of the resources this one depended on when last applied; deletes run in reverse.
    pub dependencies: Vec<String>,
    /// Refused to delete while set (`ResourceOptions::protect`).
    pub protect: bool,
    /// True for the old copy left behind by a create-before-delete replacement: it no longer
    /// belongs to the program and is deleted once nothing refers to it.
    pub replaced: bool,
}

/// What a pending (in-flight) operation was about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// Making the resource.
    Create,
    /// Changing it in place.
    Update,
    /// Deleting it.
    Delete,
}

impl OpKind {
    /// As the state and `state pending` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => OpKind::Create,
            "update" => OpKind::Update,
            "delete" => OpKind::Delete,
            _ => return None,
        })
    }
}

/// An operation recorded before its provider call and cleared after it. A row that survives
/// means the process died (or lost its connection) while the call was in flight. (Its `Debug`
/// masks secret values.)
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    /// Row identity, what `state resolve` names it by.
    pub seq: i64,
    /// The command (history row) it belongs to.
    pub update_id: i64,
    /// The resource's name.
    pub name: String,
    /// The resource's type token.
    pub ty: String,
    /// The provider instance the call went to.
    pub provider: String,
    /// What the call was to do.
    pub kind: OpKind,
    /// The record the operation acts on (update and delete), if any.
    pub resource_seq: Option<i64>,
    /// The inputs sent to the provider.
    pub inputs: Value,
    /// Idempotency token passed to the provider, so that an interrupted create can be found.
    pub client_token: String,
    /// When the call was sent (RFC 3339).
    pub started_at: String,
    /// For a create: the record's dependencies and protection, should it have to be adopted.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// See [`ResourceRecord::protect`].
    #[serde(default)]
    pub protect: bool,
}

/// One command that changed (or tried to change) a stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateRecord {
    /// Its number, in the order commands started.
    pub id: i64,
    /// The stack.
    pub stack: String,
    /// The command: `up`, `destroy`, `refresh`.
    pub kind: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended, if it did.
    pub finished_at: Option<String>,
    /// `succeeded`, `failed`, or absent while running (or when the process died).
    pub result: Option<String>,
    /// Counts of operations by kind, and anything else worth keeping.
    pub summary: Value,
}

/// One stack of a state, as `stack ls` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackSummary {
    /// The stack's name.
    pub name: String,
    /// Live resources (old copies of replacements not counted).
    pub resources: u64,
    /// The last command that changed it (`up`, `destroy`, `refresh`), and when it started.
    pub last_kind: Option<String>,
    /// When that command started (RFC 3339).
    pub last_at: Option<String>,
}

/// Which state of a stack a command saw: what a saved plan holds, and applies only to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackVersion {
    /// Fixed when the stack is created (from its name and creation time), kept when it moves
    /// to another state (`state migrate`, export and import): a stack removed and made again
    /// has another.
    pub lineage: String,
    /// One more for every write that changes what the stack records (a resource made,
    /// changed, renamed or deleted; new outputs).
    pub serial: i64,
}

/// `v` with every secret (`{"@secret": …}`) shown as `[secret]`, for `Debug`.
fn masked(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key(crate::SECRET_MARKER) => {
            serde_json::json!({ crate::SECRET_MARKER: "[secret]" })
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), masked(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        other => other.clone(),
    }
}

impl std::fmt::Debug for ResourceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceRecord")
            .field("seq", &self.seq)
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("provider", &self.provider)
            .field("id", &self.id)
            .field("inputs", &masked(&self.inputs))
            .field("outputs", &masked(&self.outputs))
            .field("dependencies", &self.dependencies)
            .field("protect", &self.protect)
            .field("replaced", &self.replaced)
            .finish()
    }
}

impl std::fmt::Debug for PendingOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingOp")
            .field("seq", &self.seq)
            .field("update_id", &self.update_id)
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("resource_seq", &self.resource_seq)
            .field("inputs", &masked(&self.inputs))
            .field("client_token", &self.client_token)
            .field("started_at", &self.started_at)
            .field("dependencies", &self.dependencies)
            .field("protect", &self.protect)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_masks_secret_values() {
        let record = super::ResourceRecord {
            seq: 1,
            name: "db".into(),
            ty: "test:Thing".into(),
            provider: "test".into(),
            id: "id".into(),
            inputs: serde_json::json!({"password": {"@secret": "hunter2-debug"}, "size": 1}),
            outputs: serde_json::json!({}),
            dependencies: vec![],
            protect: false,
            replaced: false,
        };
        let shown = format!("{record:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("[secret]"),
            "{shown}"
        );
    }
}

//! Recovery of operations a killed (or disconnected) run left in flight.
//!
//! Every provider call is recorded as pending before it is made and cleared, with its result,
//! when it returns. A pending row found by the next command means nobody knows whether the call
//! took effect, so it is settled by asking the provider before anything is planned:
//! an interrupted create is looked for (client token, tags, unique name) and adopted if found;
//! an interrupted delete or update is settled by reading the resource back. When the provider
//! cannot tell, the command stops and names the `state resolve` command that settles it by hand.

use cairn_state::{OpKind, PendingOp, ResourceRecord};

use super::{EngineError, Program, Session, providers_of};
use crate::props;
use crate::provider::{CreateRequest, ReadRequest, ReadResult, ResourceContext, read_declared};

/// How one interrupted operation was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The resource.
    pub name: String,
    /// What the interrupted call was to do.
    pub kind: OpKind,
    /// What was found and recorded, in words.
    pub outcome: String,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.kind.as_str(), self.name, self.outcome)
    }
}

/// What a create whose outcome was lost made, if anything: the provider's candidates, less
/// what the state already records (the old copy of a replacement carries the same tags), read
/// back. More than one candidate is an error: which one this create made is unclear.
pub(crate) async fn find_made(
    provider: &dyn crate::Provider,
    resource: ResourceContext,
    inputs: serde_json::Value,
    token: &str,
    records: &[ResourceRecord],
) -> Result<Option<(String, ReadResult)>, String> {
    let candidates = provider
        .find(CreateRequest {
            resource: resource.clone(),
            inputs: inputs.clone(),
            client_token: token.to_string(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut fresh: Vec<String> = candidates
        .into_iter()
        .filter(|id| !records.iter().any(|r| r.ty == resource.ty && &r.id == id))
        .collect();
    if fresh.len() > 1 {
        return Err(format!(
            "{} resources match it ({}), so which one it made is unclear",
            fresh.len(),
            fresh.join(", ")
        ));
    }
    let Some(id) = fresh.pop() else {
        return Ok(None);
    };
    let read = read_declared(
        provider,
        ReadRequest {
            resource,
            id: id.clone(),
            inputs,
            outputs: serde_json::Value::Null,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(read.map(|r| (id, r)))
}

impl Session<'_> {
    /// Settles every pending operation of the stack. Errors name each operation that could not
    /// be settled and how to settle it; everything that could be settled was.
    pub async fn recover(&self, program: &Program) -> Result<Vec<Recovered>, EngineError> {
        let e = self.engine;
        let pending = e.store.pending_operations(&e.stack)?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let providers = providers_of(&program.stack);
        let mut done = Vec::new();
        let mut unsettled = Vec::new();
        for op in pending {
            let Some(provider) = providers.get(&op.provider) else {
                unsettled.push(format!(
                    "{} '{}' ({}): provider '{}' is not declared by the program; {}",
                    op.kind.as_str(),
                    op.name,
                    op.ty,
                    op.provider,
                    resolve_hint(&op)
                ));
                continue;
            };
            let ctx = ResourceContext {
                stack: e.stack.clone(),
                name: op.name.clone(),
                ty: op.ty.clone(),
            };
            match self.settle(&op, provider.provider.as_ref(), ctx).await {
                Ok(outcome) => done.push(Recovered {
                    name: op.name.clone(),
                    kind: op.kind,
                    outcome,
                }),
                Err(why) => unsettled.push(format!(
                    "{} '{}' ({}) was interrupted and cannot be settled automatically: {why}; {}",
                    op.kind.as_str(),
                    op.name,
                    op.ty,
                    resolve_hint(&op)
                )),
            }
        }
        if unsettled.is_empty() {
            Ok(done)
        } else {
            Err(EngineError::Recovery(unsettled))
        }
    }

    async fn settle(
        &self,
        op: &PendingOp,
        provider: &dyn crate::Provider,
        resource: ResourceContext,
    ) -> Result<String, String> {
        let store = &self.engine.store;
        let stack = &self.engine.stack;
        let records = store.resources(stack).map_err(|e| e.to_string())?;
        let inputs = props::to_plain(&props::from_state(&op.inputs)).unwrap_or_default();
        match op.kind {
            OpKind::Create => {
                let found =
                    find_made(provider, resource, inputs, &op.client_token, &records).await?;
                let Some((id, now)) = found else {
                    store.abandon_operation(op.seq).map_err(|e| e.to_string())?;
                    return Ok("nothing had been created".into());
                };
                adopt(store, stack, op, &records, &id, now).map_err(|e| e.to_string())?;
                Ok(format!("found {id} and adopted it"))
            }
            OpKind::Delete | OpKind::Update => {
                let Some(rec) = op
                    .resource_seq
                    .and_then(|seq| records.iter().find(|r| r.seq == seq))
                else {
                    store.abandon_operation(op.seq).map_err(|e| e.to_string())?;
                    return Ok("its record was already settled".into());
                };
                let gone = record_as_read(store, provider, resource, rec, Some(op.seq)).await?;
                Ok(if gone {
                    format!("{} is gone; dropped its record", rec.id)
                } else {
                    format!("{} still exists; recorded it as it is now", rec.id)
                })
            }
        }
    }
}

/// Reads `rec` back and records it as it is now, or drops its record if it is gone, clearing
/// pending operation `op_seq` in the same transaction; returns whether it was gone. After an
/// update or delete that was interrupted or failed halfway (an internet gateway detached but
/// not deleted), the next plan then diffs against reality, not against the old record.
pub(crate) async fn record_as_read(
    store: &cairn_state::Store,
    provider: &dyn crate::Provider,
    resource: ResourceContext,
    rec: &ResourceRecord,
    op_seq: Option<i64>,
) -> Result<bool, String> {
    let recorded = props::from_state(&rec.inputs);
    let read = read_declared(
        provider,
        ReadRequest {
            resource,
            id: rec.id.clone(),
            inputs: props::to_plain(&recorded).unwrap_or_default(),
            outputs: rec.outputs.clone(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let gone = read.is_none();
    match read {
        None => store.complete_delete(op_seq, rec.seq),
        Some(now) => store.complete_update(
            op_seq,
            &ResourceRecord {
                inputs: props::to_state(&props::from_plain(&now.inputs, &recorded)),
                outputs: now.outputs,
                ..rec.clone()
            },
        ),
    }
    .map_err(|e| e.to_string())?;
    Ok(gone)
}

/// Records `id`, found for the interrupted create `op`, as it is now (a create killed halfway
/// may not have set everything, and the next plan finishes the job as an update).
fn adopt(
    store: &cairn_state::Store,
    stack: &str,
    op: &PendingOp,
    records: &[ResourceRecord],
    id: &str,
    now: ReadResult,
) -> Result<(), cairn_state::StateError> {
    let wanted = props::from_state(&op.inputs);
    // A live record of the same name means this create was the new copy of a
    // create-before-delete replacement: the old one becomes the copy to delete.
    let replacing = records
        .iter()
        .find(|r| r.name == op.name && !r.replaced)
        .map(|r| r.seq);
    let rec = ResourceRecord {
        seq: 0,
        name: op.name.clone(),
        ty: op.ty.clone(),
        provider: op.provider.clone(),
        id: id.to_string(),
        inputs: props::to_state(&props::from_plain(&now.inputs, &wanted)),
        outputs: now.outputs,
        dependencies: op.dependencies.clone(),
        protect: op.protect,
        replaced: false,
    };
    store.complete_create(stack, op.seq, &rec, replacing)?;
    Ok(())
}

fn resolve_hint(op: &PendingOp) -> String {
    match op.kind {
        OpKind::Create => format!(
            "check the cloud for it, then run `state resolve {seq} --id <ID>` if it exists or \
             `state resolve {seq} --absent` if it does not",
            seq = op.seq
        ),
        _ => format!(
            "check the cloud for it, then run `state resolve {seq} --absent` if it is gone or \
             `state resolve {seq} --exists` if it is still there",
            seq = op.seq
        ),
    }
}

/// The user's answer for an interrupted operation the engine could not settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The create made this resource: adopt it.
    Id(String),
    /// The operation's resource does not exist (a create made nothing, a delete finished).
    Absent,
    /// The operation's resource still exists as recorded.
    Exists,
}

impl Session<'_> {
    /// Settles pending operation `seq` as the user says.
    pub async fn resolve(
        &self,
        program: &Program,
        seq: i64,
        resolution: Resolution,
    ) -> Result<String, EngineError> {
        let e = self.engine;
        let fail = |m: String| EngineError::Recovery(vec![m]);
        let op = e
            .store
            .pending_operations(&e.stack)?
            .into_iter()
            .find(|op| op.seq == seq)
            .ok_or_else(|| fail(format!("no pending operation {seq} in stack '{}'", e.stack)))?;
        let records = e.store.resources(&e.stack)?;
        match (op.kind, resolution) {
            (OpKind::Create, Resolution::Id(id)) => {
                let providers = providers_of(&program.stack);
                let provider = providers.get(&op.provider).ok_or_else(|| {
                    fail(format!(
                        "provider '{}' is not declared by the program",
                        op.provider
                    ))
                })?;
                let inputs = props::to_plain(&props::from_state(&op.inputs)).unwrap_or_default();
                let read = read_declared(
                    provider.provider.as_ref(),
                    ReadRequest {
                        resource: ResourceContext {
                            stack: e.stack.clone(),
                            name: op.name.clone(),
                            ty: op.ty.clone(),
                        },
                        id: id.clone(),
                        inputs,
                        outputs: serde_json::Value::Null,
                    },
                )
                .await
                .map_err(|err| fail(format!("reading {id}: {err}")))?
                .ok_or_else(|| fail(format!("{} {id} does not exist", op.ty)))?;
                adopt(&e.store, &e.stack, &op, &records, &id, read)?;
                Ok(format!("adopted {id} as '{}'", op.name))
            }
            (OpKind::Create, Resolution::Absent) | (_, Resolution::Exists) => {
                e.store.abandon_operation(op.seq)?;
                Ok(format!(
                    "cleared the interrupted {} of '{}'",
                    op.kind.as_str(),
                    op.name
                ))
            }
            (_, Resolution::Absent) => {
                match op.resource_seq {
                    Some(rs) => e.store.complete_delete(Some(op.seq), rs)?,
                    None => e.store.abandon_operation(op.seq)?,
                }
                Ok(format!("dropped the record of '{}'", op.name))
            }
            (kind, Resolution::Id(_)) => Err(fail(format!(
                "--id settles an interrupted create; operation {seq} is a {}",
                kind.as_str()
            ))),
        }
    }
}

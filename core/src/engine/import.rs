//! `import NAME TYPE ID`: an existing resource taken under management. Its provider reads it
//! by id, the state records it under `NAME` with the inputs it has, and the command prints the
//! declaration that, pasted into the program, plans no change. The record is protected until
//! the program declares it (the first `up` after that records the declaration's protection),
//! so that nothing imported is deleted for not being declared yet.

use cairn_state::{OpKind, PendingOp, ResourceRecord};
use serde_json::{Value, json};

use super::{EngineError, Program, Session, providers_of};
use crate::props;
use crate::provider::{ImportRequest, Prop, PropMap, ResourceContext};

/// One resource to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSpec {
    /// Its name in the stack.
    pub name: String,
    /// Its type token.
    pub ty: String,
    /// The cloud's id for it.
    pub id: String,
    /// The provider instance to read it through (default: the one named for the type's
    /// package, `aws`).
    pub provider: Option<String>,
}

/// A resource imported.
#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// Its name in the stack.
    pub name: String,
    /// The Rust statement declaring it.
    pub declaration: String,
}

/// A Rust variable name for a resource name (`legacy-vpc` → `legacy_vpc`).
fn variable(name: &str) -> String {
    let mut v: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        v.insert(0, '_');
    }
    v
}

impl Session<'_> {
    /// Imports every one of `specs`, in order, as one entry of the stack's history: each is
    /// read through its provider and recorded. Refused before anything is read when a name is
    /// already recorded (or asked twice), when another record holds the id, or when the
    /// program declares the name as another type. A resource that cannot be read stops the
    /// import there; those before it stay recorded.
    pub async fn import(
        &self,
        program: &Program,
        specs: &[ImportSpec],
    ) -> Result<Vec<ImportedResource>, EngineError> {
        let e = self.engine;
        let records = e.records()?;
        let providers = providers_of(&program.stack);
        let mut errors = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            if records.iter().any(|r| !r.replaced && r.name == s.name)
                || specs[..i].iter().any(|o| o.name == s.name)
            {
                errors.push(format!(
                    "import {}: a resource named '{}' is already in the stack; choose another name",
                    s.name, s.name
                ));
            }
            if let Some(r) = records.iter().find(|r| r.ty == s.ty && r.id == s.id) {
                errors.push(format!(
                    "import {}: {} '{}' is already managed, as '{}'",
                    s.name, s.ty, s.id, r.name
                ));
            }
            if let Some(d) = program.stack.resources.iter().find(|d| d.name == s.name)
                && d.ty != s.ty
            {
                errors.push(format!(
                    "import {}: the program declares '{}' as {}, not {}",
                    s.name, s.name, d.ty, s.ty
                ));
            }
            let provider = s.provider_name();
            if !providers.contains_key(&provider) {
                let mut known: Vec<&str> = providers.keys().map(String::as_str).collect();
                known.sort();
                errors.push(format!(
                    "import {}: the program has no provider '{provider}' (it has: {})",
                    s.name,
                    known.join(", ")
                ));
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Import(errors));
        }

        let update = e.store.begin_update(&e.stack, "import")?;
        let mut done = Vec::new();
        let mut failed = None;
        // What a declaration may refer to: the stack's records, and each one imported.
        let mut known: Vec<(String, Value)> = records
            .iter()
            .filter(|r| !r.replaced)
            .map(|r| (r.name.clone(), r.outputs.clone()))
            .collect();
        for s in specs {
            match self.import_one(&providers, update, s, &known).await {
                Ok((r, outputs)) => {
                    known.push((r.name.clone(), outputs));
                    done.push(r);
                }
                Err(why) => {
                    failed = Some(why);
                    break;
                }
            }
        }
        let summary = json!({
            "command": "import",
            "imported": done.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        });
        e.store.finish_update(update, failed.is_none(), &summary)?;
        match failed {
            Some(why) => Err(why),
            None => Ok(done),
        }
    }

    async fn import_one(
        &self,
        providers: &std::collections::HashMap<String, crate::provider::ProviderRef>,
        update: i64,
        s: &ImportSpec,
        known: &[(String, Value)],
    ) -> Result<(ImportedResource, Value), EngineError> {
        let e = self.engine;
        let provider_name = s.provider_name();
        let provider = &providers[&provider_name];
        let fail = |why: String| EngineError::Import(vec![format!("import {}: {why}", s.name)]);
        let Some(schema) = provider.provider.schema(&s.ty) else {
            return Err(fail(format!(
                "the provider '{provider_name}' has no resource type '{}'",
                s.ty
            )));
        };
        let read = provider
            .provider
            .import(ImportRequest {
                resource: ResourceContext {
                    stack: e.stack.clone(),
                    name: s.name.clone(),
                    ty: s.ty.clone(),
                },
                id: s.id.clone(),
                var: variable(&s.name),
            })
            .await
            .map_err(|err| {
                let property = err
                    .property
                    .map(|p| format!(", property '{p}'"))
                    .unwrap_or_default();
                fail(crate::redact::redact(&format!(
                    "{} '{}'{property}: {}",
                    s.ty, s.id, err.message
                )))
            })?;
        // Secret by the schema as well as by what the provider marked.
        let Value::Object(read_inputs) = read.inputs else {
            return Err(fail("the provider read no inputs".into()));
        };
        let inputs: PropMap = read_inputs
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let secret = schema.secret.contains(&k.as_str());
                let (value, wrapped) = props::value_from_state(&v);
                (
                    k,
                    Prop {
                        value: Some(value),
                        secret: secret || wrapped,
                    },
                )
            })
            .collect();
        let inputs = props::to_state(&inputs);
        let (declaration, dependencies) = with_references(&read.declaration, known);
        // Recorded as an operation first, as every write of a record is, so that a run killed
        // in between leaves a pending row the next command settles rather than nothing.
        let op = PendingOp {
            seq: 0,
            update_id: update,
            name: s.name.clone(),
            ty: s.ty.clone(),
            provider: provider_name.clone(),
            kind: OpKind::Create,
            resource_seq: None,
            inputs: inputs.clone(),
            client_token: format!("import:{}", s.id),
            started_at: String::new(),
            dependencies: dependencies.clone(),
            protect: true,
        };
        let op_seq = e.store.begin_operation(&e.stack, &op)?;
        let record = ResourceRecord {
            seq: 0,
            name: s.name.clone(),
            ty: s.ty.clone(),
            provider: provider_name,
            id: s.id.clone(),
            inputs,
            outputs: read.outputs.clone(),
            dependencies,
            // Until the program declares it: an `up` run before the declaration is pasted
            // would otherwise delete what was just imported, as removed from the program.
            protect: true,
            replaced: false,
        };
        e.store.complete_create(&e.stack, op_seq, &record, None)?;
        Ok((
            ImportedResource {
                name: s.name.clone(),
                declaration,
            },
            read.outputs,
        ))
    }
}

/// `declaration` with each argument that is another resource's id, ARN, name or zone id
/// written as a reference to it (`.vpc_id(legacy_vpc.id())`, as the program would write it,
/// its variable named as `import` names them), and the resources so referred to: the
/// record's dependencies, so that a destroy deletes it before them.
fn with_references(declaration: &str, known: &[(String, Value)]) -> (String, Vec<String>) {
    let mut out = declaration.to_string();
    let mut dependencies = Vec::new();
    for (name, outputs) in known {
        let Some(outputs) = outputs.as_object() else {
            continue;
        };
        for key in ["id", "arn", "name", "zone_id"] {
            // Short values (a name like `app`) are too likely to match by chance.
            let Some(value) = outputs
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| v.len() >= 4)
            else {
                continue;
            };
            let literal = format!("({value:?})\n");
            if out.contains(&literal) {
                out = out.replace(&literal, &format!("({}.{key}())\n", variable(name)));
                if !dependencies.contains(name) {
                    dependencies.push(name.clone());
                }
            }
        }
    }
    (out, dependencies)
}

impl ImportSpec {
    /// The provider instance it is read through: the one asked for, else the one named for
    /// the type's package (`aws:ec2/Vpc` → `aws`).
    fn provider_name(&self) -> String {
        self.provider
            .clone()
            .unwrap_or_else(|| self.ty.split(':').next().unwrap_or(&self.ty).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::variable;

    #[test]
    fn an_argument_that_is_another_resources_id_becomes_a_reference_and_a_dependency() {
        let known = vec![
            (
                "legacy-vpc".to_string(),
                serde_json::json!({"id": "vpc-0abc", "arn": "arn:vpc"}),
            ),
            ("app".to_string(), serde_json::json!({"name": "app"})),
        ];
        let printed = "let s = Subnet::new(\n    stack,\n    \"s\",\n    SubnetArgs::builder()\n        \
                       .vpc_id(\"vpc-0abc\")\n        .cidr_block(\"10.0.1.0/24\")\n        \
                       .name(\"app\")\n        .build(),\n);";
        let (out, deps) = super::with_references(printed, &known);
        assert!(out.contains(".vpc_id(legacy_vpc.id())\n"), "{out}");
        // Too short to be told from a value that only happens to be the same.
        assert!(out.contains(".name(\"app\")\n"), "{out}");
        assert_eq!(deps, ["legacy-vpc"]);
    }

    #[test]
    fn a_resource_name_becomes_a_rust_variable() {
        assert_eq!(variable("legacy-vpc"), "legacy_vpc");
        assert_eq!(variable("network/Private.A"), "network_private_a");
        assert_eq!(variable("1st"), "_1st");
    }
}

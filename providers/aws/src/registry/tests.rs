//! Walks the registry: every type is reachable by its token, names only real properties in
//! its schema, and reads back the inputs a real run recorded (`inputs.json`, from the state of
//! the test programs against moto) exactly as they were written.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;

fn recorded() -> serde_json::Map<String, Value> {
    match serde_json::from_str(include_str!("inputs.json")).unwrap() {
        Value::Object(m) => m,
        _ => panic!("inputs.json is an object of type token to inputs"),
    }
}

#[test]
fn tokens_are_unique_and_each_finds_its_type() {
    let mut seen = BTreeSet::new();
    for h in all() {
        assert!(seen.insert(h.token()), "{} is registered twice", h.token());
        let (package, rest) = h.token().split_once(':').unwrap();
        assert_eq!(package, "aws", "{}", h.token());
        assert!(rest.contains('/'), "{}: not `aws:module/Type`", h.token());
        assert_eq!(handler(h.token()).unwrap().token(), h.token());
    }
    assert!(handler("aws:ec2/Vpcs").is_none());
}

#[test]
fn lookup_tokens_are_unique_and_none_is_a_type() {
    let mut seen = BTreeSet::new();
    for l in lookups() {
        assert!(seen.insert(l.token()), "{} is registered twice", l.token());
        assert!(
            handler(l.token()).is_none(),
            "{} is also a resource type",
            l.token()
        );
        assert!(l.token().starts_with("aws:"), "{}", l.token());
        assert!(
            l.token()
                .rsplit(['/', ':'])
                .next()
                .unwrap()
                .starts_with("get"),
            "{}",
            l.token()
        );
        assert_eq!(lookup(l.token()).unwrap().token(), l.token());
    }
}

#[test]
fn every_schema_entry_names_an_input_property() {
    for h in all() {
        let inputs = h.inputs();
        let schema = h.schema();
        let named = schema
            .replace_on_changes
            .iter()
            .chain(schema.unordered)
            .chain(schema.secret)
            .chain(
                schema
                    .unique
                    .iter()
                    .flat_map(|u| u.key.iter().chain(u.within)),
            );
        for p in named {
            assert!(inputs.contains(p), "{}: '{p}' is not an input", h.token());
        }
        for (name, _) in schema.auto_named() {
            assert!(
                inputs.contains(&name),
                "{}: '{name}' is not an input",
                h.token()
            );
        }
        assert_eq!(
            h.taggable(),
            inputs.contains(&"tags"),
            "{}: a `tags` input and a tag family go together",
            h.token()
        );
        assert!(!h.outputs().is_empty(), "{}: no outputs", h.token());
    }
}

#[test]
fn recorded_inputs_round_trip_through_every_type() {
    let recorded = recorded();
    for h in all() {
        let inputs = recorded
            .get(h.token())
            .unwrap_or_else(|| panic!("{}: no recorded inputs in inputs.json", h.token()));
        assert_eq!(&h.round_trip(inputs).unwrap(), inputs, "{}", h.token());
        for key in inputs.as_object().unwrap().keys() {
            assert!(h.inputs().contains(&key.as_str()), "{}: {key}", h.token());
        }
    }
    assert_eq!(
        recorded.len(),
        all().len(),
        "inputs.json has types not registered"
    );
}

#[test]
fn inputs_that_do_not_fit_the_type_are_invalid_and_say_where() {
    let vpc = handler("aws:ec2/Vpc").unwrap();
    let e = vpc
        .round_trip(&serde_json::json!({ "cidr_block": 10 }))
        .unwrap_err();
    assert_eq!(e.kind, cairn::ErrorKind::Invalid);
    assert!(e.message.contains("aws:ec2/Vpc"), "{}", e.message);
    let rule = handler("aws:ec2/SecurityGroupRule").unwrap();
    let mut inputs = recorded()["aws:ec2/SecurityGroupRule"].clone();
    inputs["direction"] = "egres".into();
    let e = rule.round_trip(&inputs).unwrap_err();
    assert!(e.message.contains("egres"), "{}", e.message);
}

/// The coverage table (`providers/aws/RESOURCES.md`), made from the registry itself so that it
/// cannot fall behind: a type added is a row, a property made `#[replace]` moves column. Like
/// rust-analyzer's generated docs, the test writes the file when it differs, and fails so that
/// the change is seen and committed.
#[test]
fn the_resource_coverage_table_is_up_to_date() {
    let code = |names: &[&str]| {
        if names.is_empty() {
            "—".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut table = String::from(
        "# Resource types of `cairn-aws`\n\n\
         Generated from the provider's registry by \
         `providers/aws/src/registry/tests.rs` (`cargo test -p cairn-aws` rewrites it when a \
         type changes). Every type is created, read back (refresh, drift, recovery), deleted, \
         and found again after a lost response (by its `cairn:` tags, or exactly its inputs); \
         changing a property in the *replaces* column replaces the resource, any other is \
         changed in place. Taggable types carry `cairn:stack` and `cairn:name` besides the \
         program's `tags`. *Named by Cairn*: a name the program may leave unset. *Looked up by \
         id*: `Type::get(stack, name, id)` reads one the stack does not manage (the others are \
         read through what they belong to). *Import*: `import NAME TYPE ID` takes an existing \
         resource under management and prints its declaration; a type read through what it \
         belongs to takes an id naming that too (the form shown), or cannot be imported yet \
         and says so.\n\n\
         | type | changed in place | replaces | outputs | tags | named by Cairn | looked up by id | import |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for h in all() {
        let schema = h.schema();
        let in_place: Vec<&str> = h
            .inputs()
            .iter()
            .copied()
            .filter(|p| !schema.replace_on_changes.contains(p))
            .collect();
        let named: Vec<&str> = schema.auto_named().map(|(p, _)| p).collect();
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            h.token(),
            code(&in_place),
            code(schema.replace_on_changes),
            code(h.outputs()),
            if h.taggable() { "yes" } else { "no" },
            code(&named),
            if h.lookup_by_id() { "yes" } else { "no" },
            match (h.lookup_by_id(), h.import_id()) {
                (true, _) => "yes".to_string(),
                (false, Some(form)) => format!("yes, by {form}"),
                (false, None) => "no".to_string(),
            },
        ));
    }
    table.push_str(
        "\n## API calls\n\nThe AWS operations each type's code makes (besides the tagging \
         calls of its service), as its documentation lists them; a test holds the list to the \
         code.\n\n| type | calls |\n|---|---|\n",
    );
    for h in all() {
        table.push_str(&format!("| `{}` | {} |\n", h.token(), code(h.api_calls())));
    }
    table.push_str(
        "\n## Ready later\n\nThese types exist (their id and ARN known) well before they are \
         ready: their create returns at once, and the dependents that take their outputs start \
         then, while Cairn waits for them to be ready; the resources that name one in \
         `depends_on` wait for ready, and so does the end of `up`. Each type's documentation \
         says why AWS accepts its dependents early.\n\n",
    );
    for h in all()
        .iter()
        .filter(|h| h.schema().readiness == cairn::Readiness::Awaited)
    {
        table.push_str(&format!("- `{}`\n", h.token()));
    }
    table.push_str(
        "\n## Lookups\n\nRead when the program is planned (or during `up`, when their arguments \
         come from resources the run makes), shown in the plan as reads, never created, changed, \
         deleted or recorded.\n\n| lookup | declared by |\n|---|---|\n",
    );
    for l in lookups() {
        table.push_str(&format!("| `{}` | `{}` |\n", l.token(), l.declared_by()));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("RESOURCES.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != table {
        std::fs::write(&path, &table).unwrap();
        panic!(
            "{} was not up to date; it is now: commit it",
            path.display()
        );
    }
}

/// The SDK operations a source file makes (`c.ec2.create_vpc()`), as `createvpc`: client field
/// names, then a method call with no arguments, whitespace aside. Lower case, as the SDK's
/// method names lose AWS's capitals (`create_db_instance`, `CreateDBInstance`).
fn sdk_calls(source: &str) -> BTreeSet<String> {
    const CLIENTS: &[&str] = &[
        "ec2", "ecr", "ecs", "elb", "iam", "logs", "sts", "s3", "acm", "rds", "route53", "secrets",
        "ssm",
    ];
    let flat: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut calls = BTreeSet::new();
    for client in CLIENTS {
        let needle = format!("{client}.");
        for (at, _) in flat.match_indices(&needle) {
            if flat[..at].chars().next_back().is_some_and(ident) {
                continue;
            }
            let rest = &flat[at + needle.len()..];
            let method: String = rest.chars().take_while(|c| ident(*c)).collect();
            if method.is_empty() || method == "clone" || !rest[method.len()..].starts_with("()") {
                continue;
            }
            calls.insert(method.replace('_', ""));
        }
    }
    calls
}

/// The calls a type's documentation lists (`#[api(calls(..))]`) are the ones its file makes:
/// per source file, the union over the types declared there equals what the code calls (the
/// file's own, and its submodules' that declare no type). Tag calls are the shared tagging
/// module's, described by `#[tags]`.
#[test]
fn each_type_lists_the_api_calls_its_code_makes() {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut by_file: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for h in all() {
        assert!(
            !h.api_calls().is_empty(),
            "{}: no #[api(calls(..))]",
            h.token()
        );
        by_file
            .entry(h.source_file())
            .or_default()
            .extend(h.api_calls().iter().map(|c| c.to_ascii_lowercase()));
    }
    let declares_types = |p: &Path| {
        by_file.keys().any(|f| {
            root.join(f).canonicalize().ok().as_deref() == p.canonicalize().ok().as_deref()
        })
    };
    for (file, listed) in &by_file {
        let path = root.join(file);
        let mut sources: Vec<PathBuf> = vec![path.clone()];
        let sub = path.with_extension("");
        if let Ok(dir) = std::fs::read_dir(&sub) {
            for e in dir.flatten() {
                if !declares_types(&e.path()) {
                    sources.push(e.path());
                }
            }
        }
        let mut made = BTreeSet::new();
        for s in &sources {
            made.extend(sdk_calls(&std::fs::read_to_string(s).unwrap()));
        }
        let unlisted: Vec<_> = made.difference(listed).collect();
        let stale: Vec<_> = listed.difference(&made).collect();
        assert!(
            unlisted.is_empty() && stale.is_empty(),
            "{file}: calls made but not listed {unlisted:?}; listed but not made {stale:?}"
        );
    }
}

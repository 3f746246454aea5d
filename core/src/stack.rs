//! The stack a program declares into: resources, their options, providers and exports.
//!
//! Declaring creates nothing: it records what the program wants, and where in the program it
//! said so (for error messages). The engine plans and applies after the program returns.

use std::collections::{BTreeMap, HashMap};
use std::panic::Location;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::output::{Output, ResourceIdx};
use crate::provider::{DefaultProvider, Provider, ProviderRef};

/// A property of a resource's arguments, erased to JSON for the engine.
pub trait IntoProperty {
    /// The property, or `None` when it is left unset.
    fn into_property(self) -> Option<Output<Value>>;
}

impl<T: serde::Serialize + 'static> IntoProperty for Output<T> {
    fn into_property(self) -> Option<Output<Value>> {
        Some(self.erase())
    }
}

impl<T: serde::Serialize + 'static> IntoProperty for Option<Output<T>> {
    fn into_property(self) -> Option<Output<Value>> {
        self.map(|o| o.erase())
    }
}

/// A resource type's arguments: a struct of outputs that the engine reads property by property.
/// `#[cairn::resource]` implements it.
pub trait Args {
    /// Each property by name, `None` for one left unset.
    fn into_properties(self) -> Vec<(&'static str, Option<Output<Value>>)>;
}

/// Arguments listed property by property: what a provider's lookups, which have no
/// declaration of their own, pass.
impl Args for Vec<(&'static str, Option<Output<Value>>)> {
    fn into_properties(self) -> Vec<(&'static str, Option<Output<Value>>)> {
        self
    }
}

/// Options every resource accepts, as in Pulumi and Terraform.
#[derive(Clone, Default)]
pub struct ResourceOptions {
    /// Extra dependencies that no input expresses.
    pub depends_on: Vec<DependsOn>,
    /// Refuse to delete (through `destroy` or removal from the program) while set.
    pub protect: bool,
    /// Properties whose changes in the program are ignored once the resource exists.
    pub ignore_changes: Vec<String>,
    /// Replace by deleting the old resource before creating the new one.
    pub delete_before_replace: bool,
    /// The provider instance to use instead of the package's default one.
    pub provider: Option<ProviderRef>,
    /// Names the resource was recorded under before (Pulumi's aliases, Terraform's `moved`):
    /// a record of one of them is this resource, renamed, not one to delete and replace.
    pub aliases: Vec<String>,
}

impl ResourceOptions {
    /// Depends on `r` too (a handle, or a name).
    pub fn depends_on(mut self, r: impl Into<DependsOn>) -> Self {
        self.depends_on.push(r.into());
        self
    }

    /// Refuses to delete it while set.
    pub fn protect(mut self, protect: bool) -> Self {
        self.protect = protect;
        self
    }

    /// Ignores the program's changes to `props` once it exists.
    pub fn ignore_changes<S: Into<String>>(mut self, props: impl IntoIterator<Item = S>) -> Self {
        self.ignore_changes
            .extend(props.into_iter().map(Into::into));
        self
    }

    /// Replaces it by deleting first.
    pub fn delete_before_replace(mut self, yes: bool) -> Self {
        self.delete_before_replace = yes;
        self
    }

    /// Declares it with `provider`, not the package's default instance.
    pub fn provider(mut self, provider: &ProviderRef) -> Self {
        self.provider = Some(provider.clone());
        self
    }

    /// The resource was called `old_name` before: its record is kept, under the new name.
    pub fn alias(mut self, old_name: impl Into<String>) -> Self {
        self.aliases.push(old_name.into());
        self
    }
}

/// An explicit dependency: a handle of a declared resource, or a name (which may be declared
/// later in the program, and so can also form a cycle, which the engine reports).
#[derive(Debug, Clone)]
pub enum DependsOn {
    /// A declared resource's handle.
    Resource(ResourceIdx),
    /// A resource's name, declared before or after.
    Name(String),
}

impl From<&str> for DependsOn {
    fn from(name: &str) -> Self {
        DependsOn::Name(name.to_string())
    }
}

/// A declared resource's handle, the basis of every typed handle (`Vpc`, `Subnet`, …).
#[derive(Debug, Clone)]
pub struct ResourceRef {
    pub(crate) idx: ResourceIdx,
    name: Arc<str>,
}

impl ResourceRef {
    /// The resource's name in the stack.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One field of the resource's outputs, known once the resource exists.
    pub fn output<T: DeserializeOwned + 'static>(&self, field: &'static str) -> Output<T> {
        Output::of_resource(self.idx, field)
    }
}

/// Lets typed handles be passed to `ResourceOptions::depends_on`.
pub trait Resource {
    /// The handle underneath.
    fn resource_ref(&self) -> &ResourceRef;
}

impl Resource for ResourceRef {
    fn resource_ref(&self) -> &ResourceRef {
        self
    }
}

impl<R: Resource> From<&R> for DependsOn {
    fn from(r: &R) -> Self {
        DependsOn::Resource(r.resource_ref().idx)
    }
}

/// One declared resource.
pub(crate) struct Declaration {
    pub name: String,
    pub ty: &'static str,
    pub provider: ProviderRef,
    pub properties: Vec<(&'static str, Output<Value>)>,
    pub depends_on: Vec<DependsOn>,
    pub protect: bool,
    pub ignore_changes: Vec<String>,
    pub delete_before_replace: bool,
    /// Replace even if nothing changed (`--replace NAME`).
    pub force_replace: bool,
    /// Names a saved plan picked for properties Cairn names (`up --plan`): the same again,
    /// rather than new random ones, so that the plan made now is the plan saved.
    pub chosen_names: BTreeMap<String, Value>,
    pub aliases: Vec<String>,
    /// A lookup (`Vpc::get`, the availability zones): read, never created, changed or deleted,
    /// and never recorded.
    pub lookup: bool,
    pub location: &'static Location<'static>,
}

impl Declaration {
    /// Whether the program set `property` (an optional one left at `None` is not set).
    pub fn declares(&self, property: &str) -> bool {
        self.properties.iter().any(|(k, _)| *k == property)
    }
}

/// What the program declares into.
pub struct Stack {
    name: String,
    config: Config,
    pub(crate) resources: Vec<Declaration>,
    pub(crate) providers: BTreeMap<String, ProviderRef>,
    pub(crate) exports: Vec<(String, Output<Value>)>,
    pub(crate) errors: Vec<String>,
    by_name: HashMap<String, usize>,
    /// The components being declared into, outermost first.
    components: Vec<String>,
}

impl Stack {
    /// An empty stack `name` with `config`.
    pub fn new(name: impl Into<String>, config: Config) -> Stack {
        Stack {
            name: name.into(),
            config,
            resources: Vec::new(),
            providers: BTreeMap::new(),
            exports: Vec::new(),
            errors: Vec::new(),
            by_name: HashMap::new(),
            components: Vec::new(),
        }
    }

    /// The stack's name (`dev`, `prod`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stack's configuration (`Cairn.<stack>.toml` and `-c`).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Registers a named provider instance; pass it to resources with
    /// `ResourceOptions::provider`. Registering under the package's name replaces the default.
    pub fn provider(&mut self, name: &str, provider: impl Provider) -> ProviderRef {
        self.provider_arc(name, Arc::new(provider))
    }

    /// Registers a provider instance already shared (see [`Stack::provider`]).
    pub fn provider_arc(&mut self, name: &str, provider: Arc<dyn Provider>) -> ProviderRef {
        let r = ProviderRef {
            name: name.to_string(),
            provider,
        };
        if self.providers.insert(name.to_string(), r.clone()).is_some() {
            self.errors
                .push(format!("provider '{name}' is declared more than once"));
        }
        r
    }

    /// The package's default provider instance, made from the configuration on first use.
    pub fn default_provider<P: DefaultProvider>(&mut self) -> ProviderRef {
        if let Some(p) = self.providers.get(P::PACKAGE) {
            return p.clone();
        }
        let provider = P::from_config(&self.config);
        self.provider(P::PACKAGE, provider)
    }

    /// Declares a component: a named group of resources. Every resource `body` declares is
    /// named `<component>/<name>` (a component inside another, `<outer>/<inner>/<name>`), so
    /// that two components may hold resources of the same name, and the plan shows each
    /// component's resources under it. A resource moved into a component is renamed: give it
    /// its old name as an alias (`ResourceOptions::alias`) to keep it.
    pub fn component<T>(&mut self, name: &str, body: impl FnOnce(&mut Stack) -> T) -> T {
        self.components.push(name.to_string());
        let out = body(self);
        self.components.pop();
        out
    }

    /// Declares a resource. Typed handles call this; programs call the handles.
    #[track_caller]
    pub fn declare<P: DefaultProvider>(
        &mut self,
        ty: &'static str,
        name: &str,
        args: impl Args,
        opts: ResourceOptions,
    ) -> ResourceRef {
        self.push::<P>(ty, name, args, opts, false, Location::caller())
    }

    /// Declares a lookup: something that exists already, read when the program is planned (or,
    /// when its arguments come from resources still to be made, during `up`), its outputs
    /// used like a resource's, and never created, changed, deleted or recorded. `ty` is a
    /// resource type (the argument `id` names the one to read) or a lookup of the provider's.
    /// Of the options, only `provider` and `depends_on` apply.
    #[track_caller]
    pub fn lookup<P: DefaultProvider>(
        &mut self,
        ty: &'static str,
        name: &str,
        args: impl Args,
        opts: ResourceOptions,
    ) -> ResourceRef {
        let location = Location::caller();
        let refused = [
            (opts.protect, "protect"),
            (!opts.ignore_changes.is_empty(), "ignore_changes"),
            (opts.delete_before_replace, "delete_before_replace"),
            (!opts.aliases.is_empty(), "alias"),
        ];
        for (_, option) in refused.iter().filter(|(set, _)| *set) {
            self.errors.push(format!(
                "lookup '{name}' ({ty}) at {location}: `{option}` applies to resources the \
                 stack manages, and a lookup only reads"
            ));
        }
        self.push::<P>(ty, name, args, opts, true, location)
    }

    fn push<P: DefaultProvider>(
        &mut self,
        ty: &'static str,
        name: &str,
        args: impl Args,
        opts: ResourceOptions,
        lookup: bool,
        location: &'static Location<'static>,
    ) -> ResourceRef {
        let scoped = match self.components.is_empty() {
            true => name.to_string(),
            false => format!("{}/{name}", self.components.join("/")),
        };
        let name = scoped.as_str();
        let provider = match opts.provider {
            Some(p) => p,
            None => self.default_provider::<P>(),
        };
        let properties = args
            .into_properties()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let idx = ResourceIdx(self.resources.len());
        if let Some(&prev) = self.by_name.get(name) {
            let first = self.resources[prev].location;
            self.errors.push(format!(
                "duplicate resource name '{name}': declared at {first} and again at {location}"
            ));
        } else {
            self.by_name.insert(name.to_string(), idx.0);
        }
        self.resources.push(Declaration {
            name: name.to_string(),
            ty,
            provider,
            properties,
            depends_on: opts.depends_on,
            protect: opts.protect,
            ignore_changes: opts.ignore_changes,
            delete_before_replace: opts.delete_before_replace,
            force_replace: false,
            chosen_names: BTreeMap::new(),
            aliases: opts.aliases,
            lookup,
            location,
        });
        ResourceRef {
            idx,
            name: name.into(),
        }
    }

    /// Reports a mistake the program found while declaring (a file it reads is missing): it
    /// is listed with every other, and nothing is planned.
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// Exports a stack output, shown by `outputs` and after `up`.
    pub fn export<T: serde::Serialize + 'static>(&mut self, name: &str, value: Output<T>) {
        self.exports.push((name.to_string(), value.erase()));
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Errors found while the program ran (duplicate names, configuration mistakes).
    pub(crate) fn take_errors(&mut self) -> Vec<String> {
        let mut errors = std::mem::take(&mut self.errors);
        errors.extend(self.config.take_errors());
        let (unread, warnings) = self.config.unread();
        errors.extend(unread);
        for w in warnings {
            tracing::warn!("{w}");
        }
        errors
    }
}

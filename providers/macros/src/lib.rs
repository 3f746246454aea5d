//! `#[cairn::resource]`: one declaration per resource type.
//!
//! A provider declares a resource type once, as a struct of its input properties and (marked
//! `#[output]`) its outputs; the attribute generates everything that is not cloud logic:
//!
//! - the handle the program gets back (`Vpc`), with `new`/`with` and one typed accessor per
//!   output;
//! - the arguments the program writes (`VpcArgs`), every property an `Output`, with a builder
//!   whose required properties must be set for `build()` to compile;
//! - the plain inputs the provider receives (`VpcInputs`) and its typed outputs (`VpcOutputs`);
//! - `cairn::ResourceType`: the type token, the property lists and the schema, whose entries
//!   come from the field attributes (`#[replace]`, `#[unique(..)]`, `#[unordered]`,
//!   `#[secret]`, `#[tags]`), so a misspelt or renamed property is a compile error;
//! - the documentation of every property and of the type, from the same attributes and from
//!   `#[api(..)]`: on a field, the API's name for it (`name = "…"`, else the field's name in
//!   `PascalCase`; `cairn` for a setting of Cairn's own), what unset means (`default = "…"`)
//!   and what it takes (`values = "…"`); on the struct, the API operations its code makes
//!   (`#[api(calls(CreateVpc, …))]`, which the provider's tests hold to the code);
//! - with `ready_later = "why"` beside the token (a load balancer): the schema's
//!   `Readiness::Awaited`, so that the dependents taking its outputs start once it exists and
//!   the engine waits for it with `Provider::await_ready`, and the reason in its documentation.
//!
//! A proc-macro rather than `macro_rules!`: the field attributes are checked against the
//! fields, with errors pointing at the attribute, and the declaration stays an ordinary struct
//! that rustfmt formats.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, ItemStruct, LitStr, Path, Token, Type, Visibility};

/// Declares a resource type; see the crate documentation.
///
/// ```ignore
/// /// A VPC.
/// #[cairn::resource(token = "aws:ec2/Vpc", provider = AwsProvider)]
/// pub struct Vpc {
///     /// The VPC's IPv4 range.
///     #[replace]
///     pub cidr_block: String,
///     pub enable_dns_support: Option<bool>,
///     #[tags]
///     pub tags: Option<Tags>,
///     #[output]
///     pub id: String,
/// }
/// ```
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr.into(), item.into()) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct TypeAttr {
    token: LitStr,
    provider: Path,
    /// `ready_later = "why"`: dependents may start once it exists (`Readiness::Awaited`), for
    /// the reason given, which the docs show.
    ready_later: Option<LitStr>,
}

fn parse_type_attr(attr: Tokens) -> syn::Result<TypeAttr> {
    let mut token = None;
    let mut provider = None;
    let mut ready_later = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("token") {
            token = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("provider") {
            provider = Some(meta.value()?.parse::<Path>()?);
        } else if meta.path.is_ident("ready_later") {
            ready_later = Some(meta.value()?.parse::<LitStr>()?);
        } else {
            return Err(meta
                .error("expected `token = \"…\"`, `provider = Type` or `ready_later = \"why\"`"));
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, attr)?;
    let missing = |what| syn::Error::new(Span::call_site(), format!("missing `{what}`"));
    Ok(TypeAttr {
        token: token.ok_or_else(|| missing("token = \"package:module/Type\""))?,
        provider: provider.ok_or_else(|| missing("provider = Type"))?,
        ready_later,
    })
}

/// A unique key: properties that two resources of the type cannot share within a scope.
struct Unique {
    key: Vec<Ident>,
    within: Vec<Ident>,
    /// The name rule, for a name Cairn fills in when the program leaves it unset.
    auto_name: Option<Expr>,
}

fn idents(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Vec<Ident>> {
    let content;
    syn::parenthesized!(content in meta.input);
    let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

/// `#[unique(within(a, b), name = RULE)]` on a field, or `#[unique(key(a, b), within(c))]` on
/// the struct.
fn parse_unique(attr: &Attribute, field: Option<&Ident>) -> syn::Result<Unique> {
    let mut u = Unique {
        key: field.into_iter().cloned().collect(),
        within: Vec::new(),
        auto_name: None,
    };
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(u);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("within") {
            u.within = idents(&meta)?;
        } else if meta.path.is_ident("key") && field.is_none() {
            u.key = idents(&meta)?;
        } else if meta.path.is_ident("name") && field.is_some() {
            u.auto_name = Some(meta.value()?.parse::<Expr>()?);
        } else if field.is_some() {
            return Err(meta.error("expected `within(…)` or `name = NAME_RULE`"));
        } else {
            return Err(meta.error("expected `key(…)` or `within(…)`"));
        }
        Ok(())
    })?;
    if u.key.is_empty() {
        return Err(syn::Error::new_spanned(attr, "a unique key needs `key(…)`"));
    }
    Ok(u)
}

struct Input {
    docs: Vec<Attribute>,
    serde: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    ty: Type,
    /// `Some(T)` when the type is `Option<T>`.
    optional: Option<Type>,
    replace: bool,
    unordered: bool,
    secret: bool,
    tags: bool,
    api: ApiFacts,
}

/// What `#[api(..)]` says of one input: how the cloud's API names it, what it is when unset,
/// what it takes.
#[derive(Default)]
struct ApiFacts {
    /// The API's name for it, when not the field's name in `PascalCase`.
    name: Option<LitStr>,
    /// Cairn's own setting (`force_destroy`): sent to no API.
    cairn: bool,
    /// What an unset optional property means.
    default: Option<LitStr>,
    /// The values it takes, where its type does not say.
    values: Option<LitStr>,
}

/// `#[api(name = "…", default = "…", values = "…")]` or `#[api(cairn, default = "…")]` on a
/// field.
fn parse_api(attr: &Attribute, into: &mut ApiFacts) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") {
            into.name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("default") {
            into.default = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("values") {
            into.values = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("cairn") {
            into.cairn = true;
        } else {
            return Err(meta
                .error("expected `name = \"…\"`, `default = \"…\"`, `values = \"…\"` or `cairn`"));
        }
        Ok(())
    })?;
    if into.cairn && into.name.is_some() {
        return Err(syn::Error::new_spanned(
            attr,
            "a property of Cairn's own has no API name",
        ));
    }
    Ok(())
}

/// `#[api(calls(CreateVpc, DescribeVpcs, …))]` on the struct: the API operations the type's
/// provider code makes.
fn parse_api_calls(attr: &Attribute) -> syn::Result<Vec<Ident>> {
    let mut calls = Vec::new();
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("calls") {
            calls = idents(&meta)?;
            Ok(())
        } else {
            Err(meta.error("expected `calls(Operation, …)`"))
        }
    })?;
    Ok(calls)
}

/// `cidr_block` → `CidrBlock`: how the AWS APIs, and most others, spell a field.
fn pascal(ident: &Ident) -> String {
    ident
        .to_string()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

struct OutputField {
    docs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    ty: Type,
}

/// One input's facts, as a sentence of its documentation: required or not, what a change does,
/// and what else the engine knows of it.
fn input_facts(f: &Input, unique: Option<&Unique>) -> String {
    let mut facts = Vec::new();
    let named = unique.is_some_and(|u| u.auto_name.is_some());
    facts.push(match (f.optional.is_some(), named, &f.api.default) {
        (_, true, _) => "Optional: left unset, Cairn names it `<resource name>-<random suffix>`, \
                         and each replacement gets a new name so that the new copy is made first."
            .to_string(),
        (true, false, Some(d)) => format!("Optional; unset: {}.", d.value()),
        (true, false, None) if f.tags => "Optional; unset: Cairn's own tags only.".to_string(),
        (true, false, None) => {
            "Optional; unset, it is not sent and the API's default applies.".to_string()
        }
        (false, false, _) => "Required.".to_string(),
    });
    facts.push(match (&f.api.name, f.api.cairn) {
        (_, true) => "Cairn's own setting, sent to no API.".to_string(),
        (Some(n), false) => format!("API name: `{}`.", n.value()),
        (None, false) => format!("API name: `{}`.", pascal(&f.ident)),
    });
    if let Some(v) = &f.api.values {
        facts.push(format!("Takes {}.", v.value()));
    }
    facts.push(if f.replace {
        "A change replaces the resource.".to_string()
    } else {
        "A change is made in place.".to_string()
    });
    if let Some(u) = unique {
        let scope = if u.within.is_empty() {
            "in the account and region".to_string()
        } else {
            let within: Vec<String> = u.within.iter().map(|w| format!("`{w}`")).collect();
            format!("within the same {}", within.join(", "))
        };
        facts.push(format!("Unique {scope}."));
    }
    if f.unordered {
        facts.push("Its order means nothing: compared as a set.".to_string());
    }
    if f.secret {
        facts.push("Secret: masked wherever it is shown, sealed in the state.".to_string());
    }
    if f.tags {
        facts.push(
            "The program's tags; Cairn adds `cairn:stack` and `cairn:name` beside them."
                .to_string(),
        );
    }
    format!(" *{}*", facts.join(" "))
}

/// The type's facts, under its own documentation: its token, what changes in place and what
/// replaces it, its outputs.
fn type_summary(
    token: &LitStr,
    calls: &[Ident],
    inputs: &[Input],
    outputs: &[OutputField],
) -> String {
    let list = |names: Vec<&Ident>| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let replaces = list(
        inputs
            .iter()
            .filter(|f| f.replace)
            .map(|f| &f.ident)
            .collect(),
    );
    let in_place = list(
        inputs
            .iter()
            .filter(|f| !f.replace)
            .map(|f| &f.ident)
            .collect(),
    );
    let outs = list(outputs.iter().map(|f| &f.ident).collect());
    let api = if calls.is_empty() {
        String::new()
    } else {
        format!(" API calls: {}.", list(calls.iter().collect()))
    };
    format!(
        " Type token `{}`.{api} Changed in place: {in_place}. Replaced when these change: \
         {replaces}. Outputs: {outs}.",
        token.value()
    )
}

fn option_inner(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

fn lit(ident: &Ident) -> LitStr {
    LitStr::new(&ident.to_string(), ident.span())
}

fn expand(attr: Tokens, item: Tokens) -> syn::Result<Tokens> {
    let TypeAttr {
        token,
        provider,
        ready_later,
    } = parse_type_attr(attr)?;
    let item: ItemStruct = syn::parse2(item)?;
    let syn::Fields::Named(named) = &item.fields else {
        return Err(syn::Error::new_spanned(
            &item,
            "a resource type is a struct with named fields",
        ));
    };
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "a resource type takes no generics",
        ));
    }

    let mut docs = Vec::new();
    let mut uniques = Vec::new();
    let mut calls = Vec::new();
    for a in &item.attrs {
        if a.path().is_ident("unique") {
            uniques.push(parse_unique(a, None)?);
        } else if a.path().is_ident("api") {
            calls = parse_api_calls(a)?;
        } else {
            docs.push(a.clone());
        }
    }

    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for f in &named.named {
        let ident = f.ident.clone().expect("named fields have names");
        let mut is_output = false;
        let mut input = Input {
            docs: Vec::new(),
            serde: Vec::new(),
            vis: f.vis.clone(),
            ident: ident.clone(),
            ty: f.ty.clone(),
            optional: option_inner(&f.ty),
            replace: false,
            unordered: false,
            secret: false,
            tags: false,
            api: ApiFacts::default(),
        };
        for a in &f.attrs {
            let p = a.path();
            if p.is_ident("doc") {
                input.docs.push(a.clone());
            } else if p.is_ident("serde") {
                input.serde.push(a.clone());
            } else if p.is_ident("output") {
                is_output = true;
            } else if p.is_ident("replace") {
                input.replace = true;
            } else if p.is_ident("unordered") {
                input.unordered = true;
            } else if p.is_ident("secret") {
                input.secret = true;
            } else if p.is_ident("tags") {
                input.tags = true;
            } else if p.is_ident("unique") {
                uniques.push(parse_unique(a, Some(&ident))?);
            } else if p.is_ident("api") {
                parse_api(a, &mut input.api)?;
            } else {
                return Err(syn::Error::new_spanned(
                    a,
                    "expected one of #[output], #[replace], #[unique(..)], #[unordered], \
                     #[secret], #[tags], #[api(..)], #[serde(..)] or a doc comment",
                ));
            }
        }
        if is_output {
            outputs.push(OutputField {
                docs: input.docs,
                vis: input.vis,
                ident,
                ty: input.ty,
            });
        } else {
            inputs.push(input);
        }
    }

    // Every property an attribute names must be an input of this type.
    let known = |i: &Ident| inputs.iter().any(|f| f.ident == *i);
    for u in &uniques {
        for i in u.key.iter().chain(&u.within) {
            if !known(i) {
                return Err(syn::Error::new_spanned(
                    i,
                    format!("`{i}` is not an input property of this resource type"),
                ));
            }
        }
    }
    // What the declaration says of each input, as the documentation of every place it appears:
    // generated, so it cannot drift from the schema.
    for f in &mut inputs {
        let unique = uniques
            .iter()
            .find(|u| u.key.len() == 1 && u.key[0] == f.ident);
        let facts = input_facts(f, unique);
        let blank = f.docs.is_empty();
        if !blank {
            f.docs.push(syn::parse_quote!(#[doc = ""]));
        }
        f.docs.push(syn::parse_quote!(#[doc = #facts]));
    }
    for f in &mut outputs {
        if f.docs.is_empty() {
            let text = format!(" The resource's `{}`, known once it exists.", f.ident);
            f.docs.push(syn::parse_quote!(#[doc = #text]));
        }
    }
    let mut summary = type_summary(&token, &calls, &inputs, &outputs);
    let readiness = match &ready_later {
        Some(why) => {
            summary.push_str(&format!(
                " Its dependents that take its outputs start as soon as it exists, before it is \
                 ready ({}); those that name it in `depends_on` wait for ready, and so does the \
                 end of `up`.",
                why.value().trim_end_matches('.')
            ));
            quote!(::cairn::Readiness::Awaited)
        }
        None => quote!(::cairn::Readiness::AtCreate),
    };
    docs.push(syn::parse_quote!(#[doc = ""]));
    docs.push(syn::parse_quote!(#[doc = #summary]));

    let auto_named: Vec<&Ident> = uniques
        .iter()
        .filter(|u| u.auto_name.is_some())
        .map(|u| &u.key[0])
        .collect();
    let tagged: Vec<&Input> = inputs.iter().filter(|f| f.tags).collect();
    if tagged.len() > 1 {
        return Err(syn::Error::new_spanned(
            &tagged[1].ident,
            "only one property holds the tags",
        ));
    }

    let vis = &item.vis;
    let name = &item.ident;
    let args = format_ident!("{name}Args");
    let inputs_ty = format_ident!("{name}Inputs");
    let outputs_ty = format_ident!("{name}Outputs");
    let args_doc = format!(
        "The arguments of a [`{name}`], each an [`Output`](::cairn::Output): set them with \
         [`{args}::builder`] (whose `build` compiles only once every required property is set)."
    );
    let inputs_doc = format!("The inputs of a [`{name}`] as its provider receives them.");
    let outputs_doc = format!("The outputs of a [`{name}`].");

    // The arguments: required properties are `Output<T>`, optional ones (and names Cairn fills
    // in) `Option<Output<T>>`.
    let mut any_required = false;
    let args_fields = inputs.iter().map(|f| {
        let (docs, vis, ident) = (&f.docs, &f.vis, &f.ident);
        let ty = match (&f.optional, auto_named.contains(&ident)) {
            (Some(inner), _) => quote!(::std::option::Option<::cairn::Output<#inner>>),
            (None, true) => {
                let t = &f.ty;
                quote!(::std::option::Option<::cairn::Output<#t>>)
            }
            (None, false) => {
                any_required = true;
                let t = &f.ty;
                quote!(::cairn::Output<#t>)
            }
        };
        quote! { #(#docs)* #[builder(into)] #vis #ident: #ty }
    });
    let args_fields: Vec<Tokens> = args_fields.collect();
    let into_properties = inputs.iter().map(|f| {
        let ident = &f.ident;
        let key = lit(ident);
        if f.optional.is_some() || auto_named.contains(&ident) {
            quote!((#key, self.#ident.map(|o| o.erase())))
        } else {
            quote!((#key, ::std::option::Option::Some(self.#ident.erase())))
        }
    });
    let default_impl = (!any_required).then(|| {
        quote! {
            impl ::std::default::Default for #args {
                fn default() -> Self {
                    Self::builder().build()
                }
            }
        }
    });

    let input_fields = inputs.iter().map(|f| {
        let (docs, serde, vis, ident, ty) = (&f.docs, &f.serde, &f.vis, &f.ident, &f.ty);
        let skip = f.optional.is_some().then(
            || quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]),
        );
        quote! { #(#docs)* #skip #(#serde)* #vis #ident: #ty }
    });
    let output_fields = outputs.iter().map(|f| {
        let (docs, vis, ident, ty) = (&f.docs, &f.vis, &f.ident, &f.ty);
        quote! { #(#docs)* #vis #ident: #ty }
    });
    let accessors = outputs.iter().map(|f| {
        let (docs, ident, ty) = (&f.docs, &f.ident, &f.ty);
        let key = lit(ident);
        quote! {
            #(#docs)*
            pub fn #ident(&self) -> ::cairn::Output<#ty> {
                self.resource.output(#key)
            }
        }
    });

    let names = |pick: fn(&Input) -> bool| {
        let l: Vec<LitStr> = inputs
            .iter()
            .filter(|f| pick(f))
            .map(|f| lit(&f.ident))
            .collect();
        quote!(&[#(#l),*])
    };
    let input_names = names(|_| true);
    let replace = names(|f| f.replace);
    let unordered = names(|f| f.unordered);
    let secret = names(|f| f.secret);
    let output_names: Vec<LitStr> = outputs.iter().map(|f| lit(&f.ident)).collect();
    let call_names: Vec<LitStr> = calls.iter().map(lit).collect();
    // `import` prints the declaration of what it read: each property set, as a program
    // writes it.
    let declared = inputs.iter().map(|f| {
        let ident = &f.ident;
        let key = lit(ident);
        if f.secret {
            // Never printed: the program takes it from a secret configuration value.
            let value = quote!(::std::format!(
                "stack.config().get_secret(\"{var}_{}\").expect(\"config set --secret {var}_{}\")",
                #key, #key
            ));
            let set = quote!(out.push_str(&::std::format!("\n        .{}({})", #key, #value)););
            return if f.optional.is_some() {
                quote!(if inputs.#ident.is_some() { #set })
            } else {
                set
            };
        }
        if f.optional.is_some() {
            quote! {
                if let ::std::option::Option::Some(v) = &inputs.#ident {
                    out.push_str(&::std::format!("\n        .{}({})", #key, ::cairn::Literal::argument(v)));
                }
            }
        } else {
            quote! {
                out.push_str(&::std::format!("\n        .{}({})", #key, ::cairn::Literal::argument(&inputs.#ident)));
            }
        }
    });
    let name_lit = lit(name);
    let args_lit = lit(&args);
    let unique = uniques.iter().map(|u| {
        let key: Vec<LitStr> = u.key.iter().map(lit).collect();
        let within: Vec<LitStr> = u.within.iter().map(lit).collect();
        let auto = match &u.auto_name {
            Some(e) => quote!(::std::option::Option::Some(#e)),
            None => quote!(::std::option::Option::None),
        };
        quote! {
            ::cairn::UniqueKey { key: &[#(#key),*], within: &[#(#within),*], auto_name: #auto }
        }
    });
    let tags = tagged.first().map(|f| {
        let ident = &f.ident;
        quote! {
            fn tags(inputs: &Self::Inputs) -> ::std::option::Option<&::std::option::Option<::cairn::Tags>> {
                ::std::option::Option::Some(&inputs.#ident)
            }
            fn tags_mut(inputs: &mut Self::Inputs) -> ::std::option::Option<&mut ::std::option::Option<::cairn::Tags>> {
                ::std::option::Option::Some(&mut inputs.#ident)
            }
        }
    });

    Ok(quote! {
        #(#docs)*
        #[derive(Debug, Clone)]
        #vis struct #name {
            resource: ::cairn::ResourceRef,
        }

        impl #name {
            /// The resource type token.
            pub const TYPE: &'static str = #token;

            /// Declares the resource with default options.
            #[track_caller]
            pub fn new(stack: &mut ::cairn::Stack, name: &str, args: #args) -> Self {
                Self::with(stack, name, args, ::cairn::ResourceOptions::default())
            }

            /// Declares the resource with options.
            #[track_caller]
            pub fn with(
                stack: &mut ::cairn::Stack,
                name: &str,
                args: #args,
                opts: ::cairn::ResourceOptions,
            ) -> Self {
                #name {
                    resource: stack.declare::<#provider>(#token, name, args, opts),
                }
            }

            /// Looks up an existing resource of this type by its id (Pulumi's `get`): read
            /// when the program is planned, its outputs used like a declared one's, and never
            /// changed, deleted or recorded.
            #[track_caller]
            pub fn get(
                stack: &mut ::cairn::Stack,
                name: &str,
                id: impl ::std::convert::Into<::cairn::Output<::std::string::String>>,
            ) -> Self {
                Self::get_with(stack, name, id, ::cairn::ResourceOptions::default())
            }

            /// [`Self::get`] with options: of them, only `provider` and `depends_on` apply.
            #[track_caller]
            pub fn get_with(
                stack: &mut ::cairn::Stack,
                name: &str,
                id: impl ::std::convert::Into<::cairn::Output<::std::string::String>>,
                opts: ::cairn::ResourceOptions,
            ) -> Self {
                let id: ::cairn::Output<::std::string::String> = id.into();
                let args: ::std::vec::Vec<(&'static str, ::std::option::Option<::cairn::Output<::cairn::__private::Value>>)> =
                    ::std::vec![("id", ::std::option::Option::Some(id.erase()))];
                #name {
                    resource: stack.lookup::<#provider>(#token, name, args, opts),
                }
            }

            /// The resource's name in the stack.
            pub fn resource_name(&self) -> &str {
                self.resource.name()
            }

            #(#accessors)*
        }

        impl ::cairn::Resource for #name {
            fn resource_ref(&self) -> &::cairn::ResourceRef {
                &self.resource
            }
        }

        #[doc = #args_doc]
        #[derive(Clone, ::cairn::__private::bon::Builder)]
        #[builder(crate = ::cairn::__private::bon)]
        #vis struct #args {
            #(#args_fields),*
        }

        #default_impl

        impl ::cairn::Args for #args {
            fn into_properties(self) -> ::std::vec::Vec<(&'static str, ::std::option::Option<::cairn::Output<::cairn::__private::Value>>)> {
                ::std::vec![#(#into_properties),*]
            }
        }

        #[doc = #inputs_doc]
        #[derive(Debug, Clone, PartialEq, ::cairn::__private::serde::Serialize, ::cairn::__private::serde::Deserialize)]
        #[serde(crate = "::cairn::__private::serde")]
        #vis struct #inputs_ty {
            #(#input_fields),*
        }

        #[doc = #outputs_doc]
        #[derive(Debug, Clone, PartialEq, ::cairn::__private::serde::Serialize, ::cairn::__private::serde::Deserialize)]
        #[serde(crate = "::cairn::__private::serde")]
        #vis struct #outputs_ty {
            #(#output_fields),*
        }

        impl ::cairn::ResourceType for #name {
            const TYPE: &'static str = #token;
            type Args = #args;
            type Inputs = #inputs_ty;
            type Outputs = #outputs_ty;
            const INPUTS: &'static [&'static str] = #input_names;
            const OUTPUTS: &'static [&'static str] = &[#(#output_names),*];
            const API_CALLS: &'static [&'static str] = &[#(#call_names),*];
            fn declaration(var: &str, name: &str, inputs: &Self::Inputs) -> ::std::string::String {
                let mut out = ::std::format!(
                    "let {var} = {}::new(\n    stack,\n    {name:?},\n    {}::builder()",
                    #name_lit,
                    #args_lit
                );
                #(#declared)*
                out.push_str("\n        .build(),\n);");
                out
            }
            const SOURCE_FILE: &'static str = ::std::file!();
            const SCHEMA: ::cairn::TypeSchema = ::cairn::TypeSchema {
                replace_on_changes: #replace,
                unique: &[#(#unique),*],
                unordered: #unordered,
                secret: #secret,
                readiness: #readiness,
            };
            #tags
        }
    })
}

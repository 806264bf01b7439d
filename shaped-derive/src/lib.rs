//! `#[derive(Module)]` for the `shaped` crate; use it through `shaped::Module`.
//!
//! For a struct whose fields are tensors, layers or other modules, the derive generates:
//! - a struct `<Name>Grads` with the same fields (same names, same visibility) whose types are the
//!   fields' gradient types (`Tensor<S, E>` for a tensor, `LinearGrads<..>` for `Linear<..>`, ...), with the
//!   same generic parameters (but the tracking one), deriving `Clone` and `Debug`;
//! - `impl Module` for the struct and for `<Name>Grads` (the gradients of gradients are themselves);
//! - when the struct is generic over its tracking (a type parameter bounded by `Tracking`, as in
//!   `struct Mlp<T: Tracking<f32> = NoTape>`), `impl Trainable`: `tape.watch(&model)` gives the same
//!   struct with `T = Tape<E>`, every field that uses `T` put on the tape and every other field (a frozen
//!   part, a skipped field) cloned. `Module` is implemented for the struct with `T = NoTape`.
//!
//! In a trainable struct, a field whose type does not use `T` and holds parameters (by its
//! `Module::HoldsParams`) must be marked `#[module(frozen)]`; otherwise a generated check fails to
//! compile with a message naming the field, as its parameters would silently get no gradient. A
//! frozen field keeps its place in the parameters (saved, loaded) and in `<Name>Grads` (zeros), is
//! listed by `Module::frozen_params`, and optimizers skip it.
//!
//! The model's `Module` impl also passes on the buffers (`Module::visit_buffers`) and the training
//! flag (`Module::set_training`, called by `model.train()` and `model.eval()`) to every field that is
//! not skipped.
//!
//! Parameter names are the field paths joined with `.` (`l1.weight`), and tuple-struct fields are named by
//! their index (`0.weight`), as in a PyTorch `state_dict`. A field may be a list of blocks,
//! `[Block<T>; 3]` or `Vec<Block<T>>` (its elements named `blocks.0.weight`, ...): the tracking
//! parameter is replaced wherever it appears in a field's type. A field marked `#[module(skip)]` is not a
//! parameter (an activation layer, a setting); it does not appear in the gradients.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{ToTokens, format_ident, quote};
use syn::{
    Data, DeriveInput, Fields, Index, Member, Type, Visibility, parse_macro_input, parse_quote,
};

/// Derives `shaped::Module` for a struct of tensors, layers and other modules, and writes its
/// gradient struct `<Name>Grads`: the same fields with their gradient types, deriving `Clone` and
/// `Debug`, also a `Module`.
///
/// A struct generic over its tracking (`struct Mlp<T: Tracking<f32> = NoTape>`, with `T` passed to
/// its trained fields) also gets `Trainable`, so that `tape.watch(&model)` puts it on a tape;
/// `Module` is then implemented for `T = NoTape`. A field whose type does not use `T` is not put on
/// the tape: if it holds parameters, it must be marked `#[module(frozen)]`, or the struct does not
/// compile (its parameters would silently get no gradient); a field without parameters
/// (`Dropout`) needs no mark. A frozen field's parameters are saved and loaded with the others,
/// its gradients in `<Name>Grads` are zeros, and no optimizer changes it. Parameters
/// are named by their field paths (`l1.weight`; `0.weight` in a tuple struct), as in a PyTorch
/// `state_dict`, and buffers and the training flag are passed on to every field that is not
/// skipped. `#[module(skip)]` marks a field that is not part of the model (an activation, a
/// setting): it is left out of the parameters and of `<Name>Grads` (a hidden `()` there in a tuple
/// struct), and cloned when the model is put on a tape.
///
/// The errors for a field without `T` read `` field `pos` holds parameters but its type does not use
/// the tracking parameter `T`, so it would get no gradient: pass `T` to its type, or mark it
/// `#[module(frozen)]` `` and, for a frozen one with `T`, `` field `pos` is marked
/// `#[module(frozen)]` but its type uses the tracking parameter `T`: ... ``.
///
/// The examples are in the docs of `shaped::module` (frozen fields in its section *Frozen
/// fields*) and `shaped::Trainable`.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// One field of the model.
struct Field {
    member: Member,
    /// The parameter-path segment: the field name, or its index in a tuple struct.
    segment: String,
    ty: Type,
    vis: Visibility,
    skip: bool,
    /// Marked `#[module(frozen)]`: parameters of the model that are never trained.
    frozen: bool,
}

/// The field's `#[module(..)]` attribute: `(skip, frozen)`.
fn field_attrs(attrs: &[syn::Attribute]) -> syn::Result<(bool, bool)> {
    let (mut skip, mut frozen) = (false, false);
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else if meta.path.is_ident("frozen") {
                frozen = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `module` attribute; they are `#[module(skip)]` and `#[module(frozen)]`",
                ))
            }
        })?;
        if skip && frozen {
            return Err(syn::Error::new_spanned(
                attr,
                "a field is either `#[module(skip)]` (not part of the model) or `#[module(frozen)]` \
                 (parameters of the model that are not trained), not both",
            ));
        }
    }
    Ok((skip, frozen))
}

/// Whether a type's tokens name any of the given identifiers.
fn mentions(tokens: TokenStream2, names: &[String]) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), names),
        _ => false,
    })
}

/// `tokens` with every identifier `name` replaced by `with`.
fn substitute(tokens: TokenStream2, name: &syn::Ident, with: &TokenStream2) -> TokenStream2 {
    tokens
        .into_iter()
        .flat_map(|t| match t {
            proc_macro2::TokenTree::Ident(i) if &i == name => with.clone(),
            proc_macro2::TokenTree::Group(g) => {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), substitute(g.stream(), name, with));
                group.set_span(g.span());
                proc_macro2::TokenTree::Group(group).into()
            }
            other => other.into(),
        })
        .collect()
}

/// The element type of a `Tracking<E>` bound, if the bound is one.
fn tracking_elem(bound: &syn::TypeParamBound) -> Option<TokenStream2> {
    let syn::TypeParamBound::Trait(t) = bound else {
        return None;
    };
    let last = t.path.segments.last()?;
    if last.ident != "Tracking" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => {
            args.args.first().map(ToTokens::to_token_stream)
        }
        _ => None,
    }
}

/// The struct's tracking parameter and its element type: the type parameter bounded by
/// `Tracking<E>` (in its list of bounds or in the `where` clause), if any.
fn tracking_param(generics: &syn::Generics) -> syn::Result<Option<(syn::Ident, TokenStream2)>> {
    let mut found = Vec::new();
    for p in generics.type_params() {
        let inline = p.bounds.iter().find_map(tracking_elem);
        let in_where = generics.where_clause.as_ref().and_then(|w| {
            w.predicates.iter().find_map(|pred| match pred {
                syn::WherePredicate::Type(t)
                    if p.ident == t.bounded_ty.to_token_stream().to_string() =>
                {
                    t.bounds.iter().find_map(tracking_elem)
                }
                _ => None,
            })
        });
        if let Some(elem) = inline.or(in_where) {
            found.push((p.ident.clone(), elem));
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(syn::Error::new(
            Span::call_site(),
            "`#[derive(Module)]` takes at most one tracking parameter (a type parameter bounded by \
             `Tracking<E>`)",
        )),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "`#[derive(Module)]` works on structs only",
        ));
    };
    let named = matches!(data.fields, Fields::Named(_));
    let mut fields = Vec::new();
    for (i, f) in data.fields.iter().enumerate() {
        let (member, segment) = match &f.ident {
            Some(ident) => (Member::Named(ident.clone()), ident.to_string()),
            None => (Member::Unnamed(Index::from(i)), i.to_string()),
        };
        let (skip, frozen) = field_attrs(&f.attrs)?;
        fields.push(Field {
            member,
            segment,
            ty: f.ty.clone(),
            vis: f.vis.clone(),
            skip,
            frozen,
        });
    }
    let params: Vec<&Field> = fields.iter().filter(|f| !f.skip).collect();
    let Some(first) = params.first() else {
        return Err(syn::Error::new(
            Span::call_site(),
            "`#[derive(Module)]` needs at least one parameter field (a tensor, a layer or a module)",
        ));
    };

    let name = &input.ident;
    let vis = &input.vis;
    let grads_name = format_ident!("{}Grads", name);
    let m = quote!(::shaped::Module);
    let (tracking, tracking_elem) = match tracking_param(&input.generics)? {
        Some((t, e)) => (Some(t), Some(e)),
        None => (None, None),
    };
    let no_tape = quote!(::shaped::NoTape);
    // A type as the model with `T = NoTape` sees it.
    let untracked = |tokens: TokenStream2| match &tracking {
        Some(t) => substitute(tokens, t, &no_tape),
        None => tokens,
    };
    let uses_tracking = |ty: &Type| {
        tracking
            .as_ref()
            .is_some_and(|t| mentions(quote!(#ty), &[t.to_string()]))
    };
    let field_ty = |f: &Field| -> Type {
        let ty = &f.ty;
        syn::parse2(untracked(quote!(#ty))).expect("a substituted type is a type")
    };
    if let Some(t) = &tracking
        && let Some(f) = params.iter().find(|f| f.frozen && uses_tracking(&f.ty))
    {
        return Err(syn::Error::new_spanned(
            &f.ty,
            format!(
                "field `{}` is marked `#[module(frozen)]` but its type uses the tracking \
                 parameter `{t}`: a frozen field is not put on the tape, write its type \
                 without `{t}`",
                f.segment
            ),
        ));
    }
    let first_ty = field_ty(first);
    let elem = quote!(<#first_ty as #m>::Elem);

    // The generics of the impls and of the gradient struct: the model's, without the tracking
    // parameter, and with it replaced by `NoTape` in every bound.
    let mut generics = input.generics.clone();
    if let Some(t) = &tracking {
        generics.params = generics
            .params
            .into_iter()
            .filter(|p| !matches!(p, syn::GenericParam::Type(tp) if &tp.ident == t))
            .collect();
        if let Some(wc) = generics.where_clause.as_mut() {
            wc.predicates = wc
                .predicates
                .iter()
                .filter(|pred| {
                    !matches!(pred, syn::WherePredicate::Type(tp)
                        if *t == tp.bounded_ty.to_token_stream().to_string())
                })
                .map(|pred| {
                    syn::parse2::<syn::WherePredicate>(untracked(quote!(#pred)))
                        .expect("a substituted predicate is a predicate")
                })
                .collect();
        }
    }
    // The model's type with its tracking parameter set to `with` (itself when it has none).
    let ty_args = |with: &TokenStream2| {
        let args = input.generics.params.iter().map(|p| match p {
            syn::GenericParam::Type(tp) if Some(&tp.ident) == tracking.as_ref() => with.clone(),
            syn::GenericParam::Type(tp) => tp.ident.to_token_stream(),
            syn::GenericParam::Const(c) => c.ident.to_token_stream(),
            syn::GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        });
        if input.generics.params.is_empty() {
            quote!(#name)
        } else {
            quote!(#name<#(#args),*>)
        }
    };
    let self_ty = ty_args(&no_tape);
    let tracked_ty = ty_args(&quote!(::shaped::Tape<#tracking_elem>));

    // Every parameter field is a module of the same element type. A field type that uses the struct's
    // generic parameters gets a `where` bound; a concrete one is checked by a constant instead (a bound
    // on a concrete type would enter every impl's environment and send the solver round in cycles).
    let generic_names: Vec<String> = generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.to_string()),
            syn::GenericParam::Const(c) => Some(c.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let is_generic = |ty: &Type| mentions(quote!(#ty), &generic_names);
    let mut checks = Vec::new();
    // In a trainable model, a field that does not use the tracking parameter is not put on the
    // tape: unless marked `#[module(frozen)]`, its type must hold no parameters (`Dropout`), or it
    // would silently get no gradient. Checked in a function with the model's own generics and
    // bounds, not the derive's `Module` bounds on the field types (a bound `F: Module` in the
    // environment would hide `F`'s impl, and with it the value of `F::HoldsParams`).
    if let Some(t) = &tracking {
        let (check_impl, _, check_where) = generics.split_for_impl();
        for f in params.iter().filter(|f| !f.frozen && !uses_tracking(&f.ty)) {
            let ty = &f.ty;
            let bare_param = match ty {
                Type::Path(p) if p.qself.is_none() => p
                    .path
                    .get_ident()
                    .is_some_and(|i| generics.type_params().any(|tp| &tp.ident == i)),
                _ => false,
            };
            let mut where_clause = check_where.cloned().unwrap_or_else(|| parse_quote!(where));
            if bare_param {
                where_clause.predicates.push(parse_quote!(#ty: #m));
            }
            let message = format!(
                "field `{}` holds parameters but its type does not use the tracking parameter \
                 `{t}`, so it would get no gradient: pass `{t}` to its type, or mark it \
                 `#[module(frozen)]`",
                f.segment
            );
            let label = format!("this type holds parameters and does not use `{t}`");
            let note = format!(
                "a field of a trainable model is put on the tape when its type uses `{t}` (`Linear<2, \
                 3, f32, {t}>`, `Tensor<Rank1<3>, f32, {t}>`, a model `Inner<{t}>`); \
                 `#[module(frozen)]` keeps it as it is (saved and loaded, never changed by an \
                 optimizer)"
            );
            let call = quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
                holds_no_parameters::<<#ty as #m>::HoldsParams>()
            };
            checks.push(quote! {
                const _: () = {
                    #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                    trait HoldsNoParameters {}
                    impl HoldsNoParameters for ::shaped::module::No {}
                    fn holds_no_parameters<F: HoldsNoParameters>() {}
                    #[allow(dead_code)]
                    fn check #check_impl () #where_clause {
                        #call;
                    }
                };
            });
        }
    }
    {
        let wc = generics.make_where_clause();
        let first_tokens = quote!(#first_ty).to_string();
        for (i, f) in params.iter().enumerate() {
            let ty = field_ty(f);
            let same_as_first = i > 0 && quote!(#ty).to_string() == first_tokens;
            if is_generic(&ty) {
                if i == 0 {
                    wc.predicates.push(parse_quote!(#ty: #m));
                } else if !same_as_first {
                    wc.predicates.push(parse_quote!(#ty: #m<Elem = #elem>));
                }
            } else if !is_generic(&first_ty) {
                checks.push(quote! {
                    const _: () = {
                        fn same_element_type<M: #m<Elem = #elem>>() {}
                        let _ = same_element_type::<#ty>;
                    };
                });
            }
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // The gradient struct keeps the model's generics (but the tracking one), defaults included, and
    // needs the same bounds for its field types to be well-formed.
    let mut decl_generics = input.generics.clone();
    decl_generics.params = generics.params.clone();
    decl_generics.where_clause = None;
    let decl_where = where_clause;

    // Whether the model holds parameters: whether any field's type does (frozen ones included).
    let holds_params = params
        .iter()
        .rev()
        .fold(quote!(::shaped::module::No), |rest, f| {
            let ty = field_ty(f);
            quote!(<<#ty as #m>::HoldsParams as ::shaped::module::Flag>::Or<#rest>)
        });

    let grad_ty = |f: &Field| {
        let ty = field_ty(f);
        quote!(<#ty as #m>::Grads)
    };
    let grads_struct = if named {
        let decls = params.iter().map(|f| {
            let (fvis, member, gty) = (&f.vis, &f.member, grad_ty(f));
            let doc = format!("The gradient of `{}`.", f.segment);
            quote!(#[doc = #doc] #fvis #member: #gty,)
        });
        quote! {
            #[doc = concat!("The gradients of a [`", stringify!(#name), "`]: the same fields, with the same types.")]
            #[derive(Clone, Debug)]
            #vis struct #grads_name #decl_generics #decl_where { #(#decls)* }
        }
    } else {
        let decls = fields.iter().map(|f| {
            if f.skip {
                quote!(#[doc(hidden)] pub (),)
            } else {
                let (fvis, gty) = (&f.vis, grad_ty(f));
                quote!(#fvis #gty,)
            }
        });
        quote! {
            #[doc = concat!("The gradients of a [`", stringify!(#name), "`]: the same fields, with the same types.")]
            #[derive(Clone, Debug)]
            #vis struct #grads_name #decl_generics (#(#decls)*) #decl_where;
        }
    };

    let members: Vec<&Member> = params.iter().map(|f| &f.member).collect();
    let segments: Vec<&String> = params.iter().map(|f| &f.segment).collect();
    let visitors = quote! {
        fn visit(&self, path: &mut ::std::string::String, f: &mut ::shaped::module::Visit<'_, Self::Elem>) {
            #(
                let len = ::shaped::module::push_segment(path, #segments);
                #m::visit(&self.#members, path, f);
                path.truncate(len);
            )*
        }

        fn visit_mut(
            &mut self,
            path: &mut ::std::string::String,
            f: &mut ::shaped::module::VisitMut<'_, Self::Elem>,
        ) {
            #(
                let len = ::shaped::module::push_segment(path, #segments);
                #m::visit_mut(&mut self.#members, path, f);
                path.truncate(len);
            )*
        }

        fn zip_mut(&mut self, other: &Self::Grads, f: &mut ::shaped::module::ZipMut<'_, Self::Elem>) {
            #( #m::zip_mut(&mut self.#members, &other.#members, f); )*
        }
    };
    // Building a struct of the gradients' (or the model's) fields: a value for every field (skipped
    // tuple fields are `()` in the gradients).
    let build = |value: &dyn Fn(&Field) -> TokenStream2| {
        if named {
            let inits = params.iter().map(|f| {
                let (member, v) = (&f.member, value(f));
                quote!(#member: #v)
            });
            quote!(#grads_name { #(#inits),* })
        } else {
            let inits = fields
                .iter()
                .map(|f| if f.skip { quote!(()) } else { value(f) });
            quote!(#grads_name(#(#inits),*))
        }
    };
    let read = |f: &Field| {
        let member = &f.member;
        if f.frozen {
            return quote!(#m::zeros_like(&self.#member));
        }
        let flag = if uses_tracking(&f.ty) {
            quote!(trained)
        } else {
            quote!(false)
        };
        quote!(#m::read_grads(&self.#member, grads, #flag))
    };
    let from_tape = build(&read);
    let zeros = build(&|f| {
        let member = &f.member;
        quote!(#m::zeros_like(&self.#member))
    });
    let grads_from_tape = build(&|f| {
        let member = &f.member;
        quote!(#m::read_grads(&self.#member, grads, false))
    });
    // Frozen fields are left out of the unused parameters.
    let live: Vec<&Field> = params.iter().copied().filter(|f| !f.frozen).collect();
    let live_members = live.iter().map(|f| &f.member);
    let live_segments = live.iter().map(|f| &f.segment);
    let live_trained = live.iter().map(|f| {
        if uses_tracking(&f.ty) {
            quote!(trained)
        } else {
            quote!(false)
        }
    });
    let frozen_flags = params.iter().map(|f| {
        if f.frozen {
            quote!(true)
        } else {
            quote!(frozen)
        }
    });
    let hidden = quote! {
        fn unused_into(
            &self,
            grads: &::shaped::Grads<Self::Elem>,
            trained: bool,
            path: &mut ::std::string::String,
            out: &mut ::std::vec::Vec<::std::string::String>,
        ) {
            #(
                let len = ::shaped::module::push_segment(path, #live_segments);
                #m::unused_into(&self.#live_members, grads, #live_trained, path, out);
                path.truncate(len);
            )*
        }

        fn frozen_into(
            &self,
            frozen: bool,
            path: &mut ::std::string::String,
            out: &mut ::std::vec::Vec<::std::string::String>,
        ) {
            #(
                let len = ::shaped::module::push_segment(path, #segments);
                #m::frozen_into(&self.#members, #frozen_flags, path, out);
                path.truncate(len);
            )*
        }
    };
    // Buffers and the training flag belong to the model, not to its gradients.
    let model_state = quote! {
        fn visit_buffers(
            &self,
            path: &mut ::std::string::String,
            f: &mut ::shaped::module::VisitBuffers<'_, Self::Elem>,
        ) {
            #(
                let len = ::shaped::module::push_segment(path, #segments);
                #m::visit_buffers(&self.#members, path, f);
                path.truncate(len);
            )*
        }

        fn visit_buffers_mut(
            &mut self,
            path: &mut ::std::string::String,
            f: &mut ::shaped::module::VisitBuffersMut<'_, Self::Elem>,
        ) {
            #(
                let len = ::shaped::module::push_segment(path, #segments);
                #m::visit_buffers_mut(&mut self.#members, path, f);
                path.truncate(len);
            )*
        }

        fn set_training(&mut self, training: bool) {
            #( #m::set_training(&mut self.#members, training); )*
        }
    };
    let grads_hidden = quote! {
        fn unused_into(
            &self,
            _grads: &::shaped::Grads<Self::Elem>,
            _trained: bool,
            _path: &mut ::std::string::String,
            _out: &mut ::std::vec::Vec<::std::string::String>,
        ) {
        }
    };

    let trainable = tracking.as_ref().map(|_| {
        // A field that uses the tracking parameter goes on the tape; any other is cloned (frozen).
        let value = |f: &Field| {
            let member = &f.member;
            if !f.skip && uses_tracking(&f.ty) {
                quote!(::shaped::Trainable::track(&self.#member, tape))
            } else {
                quote!(::core::clone::Clone::clone(&self.#member))
            }
        };
        let values = fields.iter().map(value);
        let body = if named {
            let members = fields.iter().map(|f| &f.member);
            quote!(#name { #(#members: #values),* })
        } else {
            quote!(#name(#(#values),*))
        };
        quote! {
            impl #impl_generics ::shaped::Trainable for #self_ty #where_clause {
                type Tracked = #tracked_ty;

                fn track(&self, tape: &::shaped::Tape<Self::Elem>) -> Self::Tracked {
                    #body
                }
            }
        }
    });

    Ok(quote! {
        #(#checks)*

        #grads_struct

        impl #impl_generics #m for #self_ty #where_clause {
            type Elem = #elem;
            type Grads = #grads_name #ty_generics;
            type HoldsParams = #holds_params;

            #visitors

            fn read_grads(&self, grads: &::shaped::Grads<Self::Elem>, trained: bool) -> Self::Grads {
                #from_tape
            }

            fn zeros_like(&self) -> Self::Grads {
                #zeros
            }

            #hidden

            #model_state
        }

        impl #impl_generics #m for #grads_name #ty_generics #where_clause {
            type Elem = #elem;
            type Grads = Self;
            type HoldsParams = #holds_params;

            #visitors

            fn read_grads(&self, grads: &::shaped::Grads<Self::Elem>, _trained: bool) -> Self::Grads {
                #grads_from_tape
            }

            fn zeros_like(&self) -> Self::Grads {
                #zeros
            }

            #grads_hidden
        }

        #trainable
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error `expand` gives for `input`, as text.
    fn error(input: DeriveInput) -> String {
        match expand(&input) {
            Ok(_) => panic!("the derive accepted the struct"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_field_cannot_be_both_skipped_and_frozen() {
        let input: DeriveInput = parse_quote! {
            struct Net<T: Tracking<f32> = NoTape> {
                #[module(skip, frozen)]
                table: Tensor<Rank1<3>>,
                head: Linear<3, 1, f32, T>,
            }
        };
        assert_eq!(
            error(input),
            "a field is either `#[module(skip)]` (not part of the model) or `#[module(frozen)]` \
             (parameters of the model that are not trained), not both"
        );
        // The same in two attributes.
        let input: DeriveInput = parse_quote! {
            struct Net<T: Tracking<f32> = NoTape> {
                #[module(frozen)]
                #[module(skip)]
                table: Tensor<Rank1<3>>,
                head: Linear<3, 1, f32, T>,
            }
        };
        assert!(error(input).ends_with("not both"));
    }

    #[test]
    fn an_unknown_attribute_names_the_known_ones() {
        let input: DeriveInput = parse_quote! {
            struct Net<T: Tracking<f32> = NoTape> {
                #[module(fixed)]
                table: Tensor<Rank1<3>>,
                head: Linear<3, 1, f32, T>,
            }
        };
        assert_eq!(
            error(input),
            "unknown `module` attribute; they are `#[module(skip)]` and `#[module(frozen)]`"
        );
    }

    #[test]
    fn a_frozen_field_that_uses_the_tracking_parameter_is_an_error() {
        let input: DeriveInput = parse_quote! {
            struct Net<Tr: Tracking<f32> = NoTape> {
                head: Linear<3, 1, f32, Tr>,
                #[module(frozen)]
                body: Linear<3, 3, f32, Tr>,
            }
        };
        assert_eq!(
            error(input),
            "field `body` is marked `#[module(frozen)]` but its type uses the tracking parameter \
             `Tr`: a frozen field is not put on the tape, write its type without `Tr`"
        );
    }

    #[test]
    fn lists_of_blocks_use_the_tracking_parameter_inside() {
        let input: DeriveInput = parse_quote! {
            struct Net<T: Tracking<f32> = NoTape> {
                blocks: [Block<T>; 3],
                more: Vec<Block<T>>,
                fixed: [Linear<2, 2>; 2],
            }
        };
        let out = expand(&input).unwrap().to_string();
        // The stored model's types, with `NoTape` in the element type.
        assert!(out.contains("[Block < :: shaped :: NoTape > ; 3]"), "{out}");
        assert!(
            out.contains("Vec < Block < :: shaped :: NoTape > >"),
            "{out}"
        );
        // The lists with `T` go on the tape; the one without is checked to hold no parameters.
        let track = |field: &str| format!("{field} : :: shaped :: Trainable :: track");
        assert!(out.contains(&track("blocks")) && out.contains(&track("more")));
        assert!(out.contains("fixed : :: core :: clone :: Clone :: clone"));
        let check = |field: &str| format!("field `{field}` holds parameters");
        assert!(out.contains(&check("fixed")));
        assert!(!out.contains(&check("blocks")) && !out.contains(&check("more")));
    }

    #[test]
    fn only_unmarked_fields_without_the_tracking_parameter_are_checked() {
        let input: DeriveInput = parse_quote! {
            struct Net<T: Tracking<f32> = NoTape> {
                head: Linear<3, 1, f32, T>,
                #[module(frozen)]
                table: Tensor<Rank1<3>>,
                mask: Tensor<Rank1<3>>,
                #[module(skip)]
                name: String,
            }
        };
        let out = expand(&input).unwrap().to_string();
        let check = |field: &str| format!("field `{field}` holds parameters");
        assert_eq!(out.matches(&check("mask")).count(), 1);
        for field in ["head", "table", "name"] {
            assert!(!out.contains(&check(field)), "{field}");
        }
        // Without a tracking parameter nothing is trained, and nothing is checked.
        let input: DeriveInput = parse_quote! {
            struct Fixed {
                mask: Tensor<Rank1<3>>,
            }
        };
        assert!(
            !expand(&input)
                .unwrap()
                .to_string()
                .contains("holds parameters")
        );
    }
}

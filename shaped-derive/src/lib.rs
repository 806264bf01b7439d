//! `#[derive(Module)]` for the `shaped` crate; use it through `shaped::Module`.
//!
//! For a struct whose fields are tensors, layers or other modules, the derive generates:
//! - a struct `<Name>Grads` with the same fields (same names, same visibility) whose types are the
//!   fields' gradient types (`Tensor<S, E>` for a tensor, `LinearGrads<..>` for `Linear<..>`, ...), with the
//!   same generic parameters, deriving `Clone` and `Debug`;
//! - `impl Module` for the struct and for `<Name>Grads` (the gradients of gradients are themselves).
//!
//! Parameter names are the field paths joined with `.` (`l1.weight`), and tuple-struct fields are named by
//! their index (`0.weight`), as in a PyTorch `state_dict`. A field marked `#[module(skip)]` is not a
//! parameter (an activation layer, a setting); it does not appear in the gradients.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::{
    Data, DeriveInput, Fields, Index, Member, Type, Visibility, parse_macro_input, parse_quote,
};

/// Derives `shaped::Module` and the gradient struct `<Name>Grads`. See the crate docs.
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
}

fn is_skip(attrs: &[syn::Attribute]) -> syn::Result<bool> {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("unknown `module` attribute; the only one is `#[module(skip)]`"))
            }
        })?;
    }
    Ok(skip)
}

/// Whether a type's tokens name any of the given identifiers.
fn mentions(tokens: TokenStream2, names: &[String]) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), names),
        _ => false,
    })
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
        fields.push(Field {
            member,
            segment,
            ty: f.ty.clone(),
            vis: f.vis.clone(),
            skip: is_skip(&f.attrs)?,
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
    let first_ty = &first.ty;
    let elem = quote!(<#first_ty as #m>::Elem);

    // Every parameter field is a module of the same element type. A field type that uses the struct's
    // generic parameters gets a `where` bound; a concrete one is checked by a constant instead (a bound
    // on a concrete type would enter every impl's environment and send the solver round in cycles).
    let generic_names: Vec<String> = input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.to_string()),
            syn::GenericParam::Const(c) => Some(c.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let is_generic = |ty: &Type| mentions(quote!(#ty), &generic_names);
    let mut generics = input.generics.clone();
    let mut checks = Vec::new();
    {
        let wc = generics.make_where_clause();
        let first_tokens = quote!(#first_ty).to_string();
        for (i, f) in params.iter().enumerate() {
            let ty = &f.ty;
            let same_as_first = i > 0 && quote!(#ty).to_string() == first_tokens;
            if is_generic(ty) {
                if i == 0 {
                    wc.predicates.push(parse_quote!(#ty: #m));
                } else if !same_as_first {
                    wc.predicates.push(parse_quote!(#ty: #m<Elem = #elem>));
                }
            } else if !is_generic(first_ty) {
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
    // The gradient struct keeps the model's generics, defaults included, and needs the same bounds
    // for its field types to be well-formed.
    let decl_generics = &input.generics;
    let decl_where = where_clause;

    let grad_ty = |f: &Field| {
        let ty = &f.ty;
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
    // Building a gradient struct: a value for every field (skipped tuple fields are `()`).
    let build = |value: &dyn Fn(&Member) -> TokenStream2| {
        if named {
            let inits = params.iter().map(|f| {
                let (member, v) = (&f.member, value(&f.member));
                quote!(#member: #v)
            });
            quote!(#grads_name { #(#inits),* })
        } else {
            let inits = fields
                .iter()
                .map(|f| if f.skip { quote!(()) } else { value(&f.member) });
            quote!(#grads_name(#(#inits),*))
        }
    };
    let from_tape = build(&|member| quote!(#m::grads(&self.#member, grads)));
    let zeros = build(&|member| quote!(#m::zeros_like(&self.#member)));
    let grads_zeros = build(&|member| quote!(#m::zeros_like(&self.#member)));
    let grads_from_tape = build(&|member| quote!(#m::grads(&self.#member, grads)));

    Ok(quote! {
        #(#checks)*

        #grads_struct

        impl #impl_generics #m for #name #ty_generics #where_clause {
            type Elem = #elem;
            type Grads = #grads_name #ty_generics;

            #visitors

            fn grads(&self, grads: &::shaped::Grads<Self::Elem>) -> Self::Grads {
                #from_tape
            }

            fn zeros_like(&self) -> Self::Grads {
                #zeros
            }
        }

        impl #impl_generics #m for #grads_name #ty_generics #where_clause {
            type Elem = #elem;
            type Grads = Self;

            #visitors

            fn grads(&self, grads: &::shaped::Grads<Self::Elem>) -> Self::Grads {
                #grads_from_tape
            }

            fn zeros_like(&self) -> Self::Grads {
                #grads_zeros
            }
        }
    })
}

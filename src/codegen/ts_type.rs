//! The TypeScript types the generated files contain, and how prettier lays
//! them out. Each type is turned into the document prettier 3 builds for the
//! same syntax (checked against `prettier.__debug.printToDoc`), so the printer
//! in `doc` breaks lines exactly where prettier would.

use super::doc::{
    Doc, GroupId, Ids, align, concat, group, group_with, if_break, indent, indent_if_break, join,
    line, softline, text,
};

#[derive(Debug, Clone, PartialEq)]
pub enum TsType {
    /// `string`, `number`, `any`, `null`, `undefined`, ...
    Keyword(&'static str),
    /// A literal type, already in its printed form: `"x"`, `1`, `true`, `10n`.
    Literal(String),
    /// A template literal type, printed verbatim (`` `a.${string}` ``).
    Template(String),
    /// `Name` or `Name<args>`.
    Reference {
        name: String,
        args: Vec<TsType>,
    },
    /// `import("module").Name<args>`.
    Import {
        module: String,
        name: String,
        args: Vec<TsType>,
    },
    /// `typeof name`.
    TypeOf(String),
    Union(Vec<TsType>),
    Object(ObjectType),
    Tuple(Vec<TsType>),
    /// `A & B`; only used for `{...} & AnyDataModel`.
    Intersection(Vec<TsType>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectType {
    pub members: Vec<Member>,
    /// The reference's unformatted text had a newline right after `{`, which
    /// makes prettier keep the object expanded.
    pub expanded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub readonly: bool,
    pub key: Key,
    pub optional: bool,
    pub ty: TsType,
}

/// A property name, and whether the reference wrote it in quotes.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Quoted(String),
    Bare(String),
}

impl TsType {
    pub fn reference(name: impl Into<String>, args: Vec<TsType>) -> TsType {
        TsType::Reference {
            name: name.into(),
            args,
        }
    }

    pub fn named(name: impl Into<String>) -> TsType {
        TsType::reference(name, Vec::new())
    }

    /// A string literal type with the quotes prettier would choose.
    #[cfg(test)]
    pub fn string_literal(value: &str) -> TsType {
        TsType::Literal(print_string(value))
    }

    /// Builds a union the way a parser sees the text `a | b | c`: nested
    /// unions are flattened and a single member is just that member.
    pub fn union(members: Vec<TsType>) -> TsType {
        let mut flat = Vec::with_capacity(members.len());
        for member in members {
            match member {
                TsType::Union(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            flat.pop().unwrap_or(TsType::Keyword("never"))
        } else {
            TsType::Union(flat)
        }
    }

    pub fn object(members: Vec<Member>, expanded: bool) -> TsType {
        TsType::Object(ObjectType { members, expanded })
    }

    /// The type in its flat (single-line) form, for tests.
    #[cfg(test)]
    pub fn to_flat_string(&self) -> String {
        let mut ids = Ids::default();
        let doc = self.to_doc(Context::TypeArgument, &mut ids);
        flat_text(&doc)
    }

    fn is_object_like(&self) -> bool {
        matches!(self, TsType::Object(_) | TsType::Reference { .. })
    }

    fn is_null_or_void(&self) -> bool {
        matches!(self, TsType::Keyword("null" | "void"))
    }

    /// Simple types keep a lone type argument on the same line (`Array<string>`).
    fn is_simple(&self) -> bool {
        match self {
            TsType::Keyword(_) | TsType::Literal(_) | TsType::Template(_) => true,
            TsType::Reference { args, .. } => args.is_empty(),
            _ => false,
        }
    }

    /// prettier's `shouldHugType`.
    fn should_hug(&self) -> bool {
        match self {
            TsType::Object(_) => true,
            TsType::Union(members) => union_should_hug(members),
            other => other.is_simple(),
        }
    }

    /// The document for this type. `context` is where the type sits, which
    /// decides how a union breaks.
    pub fn to_doc(&self, context: Context, ids: &mut Ids) -> Doc {
        match self {
            TsType::Keyword(k) => text(*k),
            TsType::Literal(s) | TsType::Template(s) => text(s.clone()),
            TsType::TypeOf(name) => text(format!("typeof {name}")),
            TsType::Reference { name, args } => {
                concat(vec![text(name.clone()), type_arguments(args, ids)])
            }
            TsType::Import { module, name, args } => concat(vec![
                text(format!("import({}).{name}", print_string(module))),
                type_arguments(args, ids),
            ]),
            TsType::Union(members) => union_doc(members, context, ids),
            TsType::Object(object) => object_doc(object, ids),
            TsType::Tuple(elements) => tuple_doc(elements, ids),
            TsType::Intersection(parts) => group(join(
                text(" & "),
                parts
                    .iter()
                    .map(|p| p.to_doc(Context::Other, ids))
                    .collect(),
            )),
        }
    }
}

/// Where a type appears; prettier indents a broken union only in some places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A type argument (`Foo<here>`): a broken union is not indented further.
    TypeArgument,
    /// A property or variable annotation, or the right side of a type alias.
    Annotation,
    /// Anywhere else (intersection parts).
    Other,
}

fn union_should_hug(members: &[TsType]) -> bool {
    let Some(object_index) = members.iter().position(TsType::is_object_like) else {
        return false;
    };
    members
        .iter()
        .enumerate()
        .all(|(i, m)| i == object_index || m.is_null_or_void())
}

fn union_doc(members: &[TsType], context: Context, ids: &mut Ids) -> Doc {
    if union_should_hug(members) {
        // `null | { ... }` stays on one line and lets the object break.
        return join(
            text(" | "),
            members
                .iter()
                .map(|m| m.to_doc(Context::Other, ids))
                .collect(),
        );
    }
    let printed: Vec<Doc> = members
        .iter()
        .map(|m| align(2, m.to_doc(Context::Other, ids)))
        .collect();
    let body = group(concat(vec![
        if_break(text("| "), text("")),
        join(concat(vec![line(), text("| ")]), printed),
    ]));
    match context {
        Context::TypeArgument => body,
        Context::Annotation | Context::Other => group(indent(concat(vec![softline(), body]))),
    }
}

/// `<A, B>`: inline for a lone simple/object argument, otherwise a group
/// that puts every argument on its own line when it breaks.
fn type_arguments(args: &[TsType], ids: &mut Ids) -> Doc {
    if args.is_empty() {
        return text("");
    }
    if args.len() == 1 && args[0].should_hug() {
        return concat(vec![
            text("<"),
            args[0].to_doc(Context::TypeArgument, ids),
            text(">"),
        ]);
    }
    let printed: Vec<Doc> = args
        .iter()
        .map(|a| a.to_doc(Context::TypeArgument, ids))
        .collect();
    group(concat(vec![
        text("<"),
        indent(concat(vec![
            softline(),
            join(concat(vec![text(","), line()]), printed),
        ])),
        softline(),
        text(">"),
    ]))
}

fn object_doc(object: &ObjectType, ids: &mut Ids) -> Doc {
    if object.members.is_empty() {
        return text("{}");
    }
    let mut body = vec![line()];
    let count = object.members.len();
    for (i, member) in object.members.iter().enumerate() {
        body.push(member_doc(member, ids));
        if i + 1 < count {
            body.push(text(";"));
            body.push(line());
        } else {
            body.push(if_break(text(";"), text("")));
        }
    }
    group_with(
        concat(vec![text("{"), indent(concat(body)), line(), text("}")]),
        object.expanded,
        None,
    )
}

fn member_doc(member: &Member, ids: &mut Ids) -> Doc {
    let mut parts = Vec::new();
    if member.readonly {
        parts.push(text("readonly "));
    }
    parts.push(text(print_key(&member.key)));
    if member.optional {
        parts.push(text("?"));
    }
    parts.push(text(": "));
    parts.push(member.ty.to_doc(Context::Annotation, ids));
    group(concat(parts))
}

fn tuple_doc(elements: &[TsType], ids: &mut Ids) -> Doc {
    if elements.is_empty() {
        return text("[]");
    }
    let printed: Vec<Doc> = elements
        .iter()
        .map(|e| group(e.to_doc(Context::Other, ids)))
        .collect();
    let id = ids.next();
    group_with(
        concat(vec![
            text("["),
            indent(concat(vec![
                softline(),
                join(concat(vec![text(","), line()]), printed),
                if_break(text(","), text("")),
            ])),
            softline(),
            text("]"),
        ]),
        false,
        Some(id),
    )
}

/// The text of a doc with every group flat.
#[cfg(test)]
fn flat_text(doc: &Doc) -> String {
    let mut out = String::new();
    fn walk(doc: &Doc, out: &mut String) {
        match doc {
            Doc::Text(s) => out.push_str(s),
            Doc::Concat(parts) => parts.iter().for_each(|p| walk(p, out)),
            Doc::Group { contents, .. }
            | Doc::Indent(contents)
            | Doc::Align(_, contents)
            | Doc::IndentIfBreak { contents, .. } => walk(contents, out),
            Doc::IfBreak { flat_contents, .. } => walk(flat_contents, out),
            Doc::Line { soft, .. } => {
                if !soft {
                    out.push(' ')
                }
            }
            Doc::BreakParent => {}
        }
    }
    walk(doc, &mut out);
    out
}

/// prettier's `quoteProps: "as-needed"` for TypeScript: a quoted key loses its
/// quotes when it is an identifier name; numbers keep theirs. Keys the
/// reference wrote bare stay bare, except ones that could not be parsed bare
/// (where the reference fails), which we quote.
pub fn print_key(key: &Key) -> String {
    match key {
        Key::Quoted(name) => {
            if is_es5_identifier_name(name) {
                name.clone()
            } else {
                print_string(name)
            }
        }
        Key::Bare(name) => {
            if is_es5_identifier_name(name) {
                name.clone()
            } else if is_simple_number(name) {
                super::validator::normalize_number(name)
            } else {
                print_string(name)
            }
        }
    }
}

pub fn is_es5_identifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start_ok = first == '$' || first == '_' || first.is_alphabetic();
    start_ok && chars.all(|c| c == '$' || c == '_' || c.is_alphanumeric())
}

fn is_simple_number(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let int_ok = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    match parts.next() {
        None => int_ok,
        Some(frac) => int_ok && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// A string literal the reference wrote as `"<raw_content>"`, as prettier 3
/// reprints it: kept as is unless the content holds more double than single
/// quotes, in which case it is re-quoted with single quotes (escaped double
/// quotes lose their backslash, bare single quotes gain one).
pub fn print_string(raw_content: &str) -> String {
    let doubles = raw_content.matches('"').count();
    let singles = raw_content.matches('\'').count();
    if doubles <= singles {
        return format!("\"{raw_content}\"");
    }
    let mut out = String::with_capacity(raw_content.len() + 2);
    out.push('\'');
    let mut chars = raw_content.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some(escaped) => {
                    out.push('\\');
                    out.push(escaped);
                }
                None => out.push('\\'),
            },
            '\'' => out.push_str("\\'"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// Statement shapes the generated files use, each laid out as prettier lays
/// out the corresponding declaration.
pub enum Statement<'a> {
    /// `[export ]declare const name: type;`
    DeclareConst {
        export: bool,
        name: &'a str,
        ty: &'a TsType,
    },
    /// `[export ]const name: type = init;` (init printed verbatim)
    ConstWithType {
        export: bool,
        name: &'a str,
        ty: &'a TsType,
        init: &'a str,
    },
    /// `export const name = componentsGeneric() as unknown as type;`
    ComponentsCast { name: &'a str, ty: &'a TsType },
    /// `[export ]type name = type;`
    TypeAlias {
        export: bool,
        name: &'a str,
        ty: &'a TsType,
    },
    /// `export type ComponentApi<Name extends string | undefined = string | undefined> = type;`
    ComponentApiAlias { ty: &'a TsType },
}

impl Statement<'_> {
    /// The statement formatted at 80 columns, without a trailing newline.
    pub fn print(&self) -> String {
        let mut ids = Ids::default();
        super::doc::print(self.to_doc(&mut ids))
    }

    fn to_doc(&self, ids: &mut Ids) -> Doc {
        match self {
            Statement::DeclareConst { export, name, ty } => concat(vec![
                text(if *export { "export " } else { "" }),
                group(concat(vec![
                    text(format!("declare const {name}: ")),
                    ty.to_doc(Context::Annotation, ids),
                    text(";"),
                ])),
            ]),
            Statement::ConstWithType {
                export,
                name,
                ty,
                init,
            } => {
                let left = group(concat(vec![
                    text(format!("{name}: ")),
                    ty.to_doc(Context::Annotation, ids),
                ]));
                concat(vec![
                    text(if *export { "export " } else { "" }),
                    group(concat(vec![
                        text("const "),
                        fluid_assignment(left, text(*init), ids),
                        text(";"),
                    ])),
                ])
            }
            Statement::ComponentsCast { name, ty } => {
                let right = concat(vec![
                    text("componentsGeneric"),
                    group(text("()")),
                    text(" as unknown as "),
                    ty.to_doc(Context::Other, ids),
                ]);
                concat(vec![
                    text("export "),
                    group(concat(vec![
                        text("const "),
                        fluid_assignment(group(text(*name)), right, ids),
                        text(";"),
                    ])),
                ])
            }
            Statement::TypeAlias { export, name, ty } => concat(vec![
                text(if *export { "export " } else { "" }),
                fluid_assignment(
                    group(text(format!("type {name}"))),
                    ty.to_doc(Context::Annotation, ids),
                    ids,
                ),
                text(";"),
            ]),
            Statement::ComponentApiAlias { ty } => {
                let string_or_undefined = |ids: &mut Ids| {
                    TsType::Union(vec![
                        TsType::Keyword("string"),
                        TsType::Keyword("undefined"),
                    ])
                    .to_doc(Context::Annotation, ids)
                };
                let constraint_id = ids.next();
                let default_id = ids.next();
                let parameter = group(concat(vec![
                    text("Name extends"),
                    group_with(indent(line()), false, Some(constraint_id)),
                    indent_if_break(string_or_undefined(ids), constraint_id),
                    text(" ="),
                    group_with(indent(line()), false, Some(default_id)),
                    indent_if_break(string_or_undefined(ids), default_id),
                ]));
                let parameters = group(concat(vec![
                    text("<"),
                    indent(concat(vec![softline(), parameter])),
                    if_break(text(","), text("")),
                    softline(),
                    text(">"),
                ]));
                let left = group(concat(vec![text("type ComponentApi"), parameters]));
                concat(vec![
                    text("export "),
                    fluid_assignment(left, ty.to_doc(Context::Annotation, ids), ids),
                    text(";"),
                ])
            }
        }
    }
}

/// prettier's "fluid" assignment layout: break after `=` only when the right
/// side cannot start on the same line.
fn fluid_assignment(left: Doc, right: Doc, ids: &mut Ids) -> Doc {
    let id: GroupId = ids.next();
    group(concat(vec![
        left,
        text(" ="),
        group_with(indent(line()), false, Some(id)),
        indent_if_break(right, id),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(k: &'static str) -> TsType {
        TsType::Keyword(k)
    }

    fn member(key: &str, ty: TsType) -> Member {
        Member {
            readonly: false,
            key: Key::Bare(key.to_string()),
            optional: false,
            ty,
        }
    }

    #[test]
    fn quoted_keys_lose_quotes_only_when_they_are_identifiers() {
        assert_eq!(print_key(&Key::Quoted("messages".into())), "messages");
        assert_eq!(print_key(&Key::Quoted("$dollar".into())), "$dollar");
        assert_eq!(print_key(&Key::Quoted("lib/util".into())), "\"lib/util\"");
        assert_eq!(print_key(&Key::Quoted("my-util".into())), "\"my-util\"");
        assert_eq!(print_key(&Key::Quoted("123".into())), "\"123\"");
        assert_eq!(print_key(&Key::Quoted("delete".into())), "delete");
        assert_eq!(print_key(&Key::Bare("7".into())), "7");
    }

    #[test]
    fn strings_prefer_double_quotes() {
        assert_eq!(print_string("it's"), "\"it's\"");
        assert_eq!(print_string(r#"say \"hi\""#), r#"'say "hi"'"#);
        assert_eq!(print_string(r#"x\"y"#), r#"'x"y'"#);
        assert_eq!(print_string(r#"x\"y's"#), r#""x\"y's""#);
        assert_eq!(print_string(r#"a\"b\"c'"#), r#"'a"b"c\''"#);
        assert_eq!(print_string(r"a\d"), r#""a\d""#);
    }

    #[test]
    fn unions_flatten_like_parsed_text() {
        let u = TsType::union(vec![
            TsType::union(vec![s("string"), s("number")]),
            s("null"),
        ]);
        assert_eq!(u.to_flat_string(), "string | number | null");
        assert_eq!(TsType::union(vec![s("string")]), s("string"));
    }

    #[test]
    fn a_long_union_property_breaks_with_leading_bars() {
        let literals: Vec<TsType> = [
            "pending",
            "active",
            "suspended",
            "deleted",
            "archived",
            "awaitingVerification",
        ]
        .iter()
        .map(|l| TsType::string_literal(l))
        .collect();
        let ty = TsType::object(vec![member("status", TsType::Union(literals))], true);
        let printed = Statement::TypeAlias {
            export: false,
            name: "T",
            ty: &ty,
        }
        .print();
        assert_eq!(
            printed,
            "type T = {\n  status:\n    | \"pending\"\n    | \"active\"\n    | \"suspended\"\n    | \"deleted\"\n    | \"archived\"\n    | \"awaitingVerification\";\n};"
        );
    }

    #[test]
    fn null_or_object_hugs_and_lets_the_object_break() {
        let fields: Vec<Member> = (0..6)
            .map(|i| member(&format!("fieldNumber{i}"), s("string")))
            .collect();
        let ty = TsType::union(vec![s("null"), TsType::object(fields, false)]);
        let reference = TsType::reference("Array", vec![ty]);
        let printed = Statement::DeclareConst {
            export: false,
            name: "x",
            ty: &reference,
        }
        .print();
        assert!(
            printed.starts_with("declare const x: Array<null | {\n  fieldNumber0: string;\n"),
            "{printed}"
        );
    }

    #[test]
    fn type_arguments_break_one_per_line_without_trailing_comma() {
        let ty = TsType::reference(
            "FunctionReference",
            vec![
                TsType::string_literal("mutation"),
                TsType::string_literal("internal"),
                TsType::object(
                    vec![member(
                        "userIdentifier",
                        TsType::reference("Id", vec![TsType::string_literal("users")]),
                    )],
                    false,
                ),
                s("null"),
            ],
        );
        let object = TsType::object(vec![member("remove", ty)], true);
        let printed = Statement::DeclareConst {
            export: true,
            name: "internal",
            ty: &object,
        }
        .print();
        assert_eq!(
            printed,
            "export declare const internal: {\n  remove: FunctionReference<\n    \"mutation\",\n    \"internal\",\n    { userIdentifier: Id<\"users\"> },\n    null\n  >;\n};"
        );
    }

    #[test]
    fn tuples_break_with_a_trailing_comma() {
        let long: Vec<TsType> = (0..8)
            .map(|i| TsType::string_literal(&format!("aLongFieldName{i}")))
            .collect();
        let ty = TsType::object(vec![member("by_all", TsType::Tuple(long))], true);
        let printed = Statement::TypeAlias {
            export: false,
            name: "I",
            ty: &ty,
        }
        .print();
        assert!(
            printed.contains("    \"aLongFieldName7\",\n  ];"),
            "{printed}"
        );
    }
}

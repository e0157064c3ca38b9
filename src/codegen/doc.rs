//! A small pretty-printer in the style of Wadler's "prettier printer", with the
//! exact semantics of prettier 3's document printer (80 columns, two-space
//! indent, no tabs). The generated TypeScript must match what the official CLI
//! writes after running prettier, so the layout decisions (which group breaks,
//! where a union gets its leading `|`) have to be made the same way; building
//! the same document shapes and printing them with the same algorithm does
//! that for inputs of any size.

use std::collections::HashMap;

pub const PRINT_WIDTH: usize = 80;
const INDENT_WIDTH: usize = 2;

/// Identifies a group so that `if_break` / `indent_if_break` elsewhere can
/// follow the decision taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(u32);

#[derive(Debug, Clone)]
pub enum Doc {
    Text(String),
    Concat(Vec<Doc>),
    Group {
        contents: Box<Doc>,
        should_break: bool,
        id: Option<GroupId>,
    },
    Indent(Box<Doc>),
    Align(usize, Box<Doc>),
    /// `soft`: nothing when flat; otherwise a space when flat. `hard`: always a newline.
    Line {
        soft: bool,
        hard: bool,
    },
    IfBreak {
        break_contents: Box<Doc>,
        flat_contents: Box<Doc>,
        group_id: Option<GroupId>,
    },
    IndentIfBreak {
        contents: Box<Doc>,
        group_id: GroupId,
    },
    /// Forces the enclosing group to break (part of a hard line).
    #[cfg_attr(not(test), allow(dead_code))]
    BreakParent,
}

/// Hands out group ids; one allocator per printed document.
#[derive(Debug, Default)]
pub struct Ids(u32);

impl Ids {
    pub fn next(&mut self) -> GroupId {
        self.0 += 1;
        GroupId(self.0)
    }
}

pub fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub fn concat(parts: Vec<Doc>) -> Doc {
    Doc::Concat(parts)
}

pub fn group(contents: Doc) -> Doc {
    Doc::Group {
        contents: Box::new(contents),
        should_break: false,
        id: None,
    }
}

pub fn group_with(contents: Doc, should_break: bool, id: Option<GroupId>) -> Doc {
    Doc::Group {
        contents: Box::new(contents),
        should_break,
        id,
    }
}

pub fn indent(contents: Doc) -> Doc {
    Doc::Indent(Box::new(contents))
}

pub fn align(n: usize, contents: Doc) -> Doc {
    Doc::Align(n, Box::new(contents))
}

/// A space, or a newline when its group breaks.
pub fn line() -> Doc {
    Doc::Line {
        soft: false,
        hard: false,
    }
}

/// Nothing, or a newline when its group breaks.
pub fn softline() -> Doc {
    Doc::Line {
        soft: true,
        hard: false,
    }
}

/// A newline that also breaks every enclosing group.
#[cfg(test)]
pub fn hardline() -> Doc {
    concat(vec![
        Doc::Line {
            soft: false,
            hard: true,
        },
        Doc::BreakParent,
    ])
}

pub fn if_break(break_contents: Doc, flat_contents: Doc) -> Doc {
    Doc::IfBreak {
        break_contents: Box::new(break_contents),
        flat_contents: Box::new(flat_contents),
        group_id: None,
    }
}

pub fn indent_if_break(contents: Doc, group_id: GroupId) -> Doc {
    Doc::IndentIfBreak {
        contents: Box::new(contents),
        group_id,
    }
}

/// `parts` separated by `separator` (cloned between each pair).
pub fn join(separator: Doc, parts: Vec<Doc>) -> Doc {
    let mut out = Vec::with_capacity(parts.len() * 2);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(separator.clone());
        }
        out.push(part);
    }
    concat(out)
}

/// Marks every group that contains a hard line or an already-broken group as
/// broken, as prettier's `propagateBreaks` does before printing. Returns
/// whether `doc` forces its enclosing group to break.
fn propagate_breaks(doc: &mut Doc) -> bool {
    match doc {
        Doc::Text(_) | Doc::Line { .. } => false,
        Doc::BreakParent => true,
        Doc::Concat(parts) => {
            let mut any = false;
            for part in parts {
                any |= propagate_breaks(part);
            }
            any
        }
        Doc::Group {
            contents,
            should_break,
            ..
        } => {
            if propagate_breaks(contents) {
                *should_break = true;
            }
            *should_break
        }
        Doc::Indent(contents) | Doc::Align(_, contents) => propagate_breaks(contents),
        Doc::IndentIfBreak { contents, .. } => propagate_breaks(contents),
        Doc::IfBreak {
            break_contents,
            flat_contents,
            ..
        } => {
            let a = propagate_breaks(break_contents);
            let b = propagate_breaks(flat_contents);
            a || b
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Break,
    Flat,
}

#[derive(Clone, Copy)]
struct Command<'a> {
    indent: usize,
    mode: Mode,
    doc: &'a Doc,
}

/// Columns a string takes, as prettier counts them: ASCII is one column per
/// character; otherwise control characters take none and East Asian wide
/// characters and emoji take two.
fn width_of(s: &str) -> usize {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.len();
    }
    let visible: String = s
        .chars()
        .filter(|c| !matches!(*c as u32, 0..=0x1f | 0x7f..=0x9f))
        .collect();
    unicode_width::UnicodeWidthStr::width(visible.as_str())
}

/// Removes trailing spaces and tabs from the output, returning how many were removed.
fn trim_end(out: &mut String) -> usize {
    let trimmed = out.trim_end_matches([' ', '\t']).len();
    let removed = out.len() - trimmed;
    out.truncate(trimmed);
    removed
}

/// Whether `next` fits in `width` columns, looking past it into the commands
/// still waiting on the stack (in their own modes) up to the first line break.
fn fits(
    next: Command<'_>,
    rest: &[Command<'_>],
    mut width: isize,
    group_modes: &HashMap<GroupId, Mode>,
) -> bool {
    let mut rest_index = rest.len();
    let mut stack: Vec<(Mode, &Doc)> = vec![(next.mode, next.doc)];
    while width >= 0 {
        let Some((mode, doc)) = stack.pop() else {
            if rest_index == 0 {
                return true;
            }
            rest_index -= 1;
            stack.push((rest[rest_index].mode, rest[rest_index].doc));
            continue;
        };
        match doc {
            Doc::Text(s) => width -= width_of(s) as isize,
            Doc::Concat(parts) => {
                for part in parts.iter().rev() {
                    stack.push((mode, part));
                }
            }
            Doc::Indent(contents) | Doc::Align(_, contents) => stack.push((mode, contents)),
            Doc::IndentIfBreak { contents, .. } => stack.push((mode, contents)),
            Doc::Group {
                contents,
                should_break,
                ..
            } => {
                let group_mode = if *should_break { Mode::Break } else { mode };
                stack.push((group_mode, contents));
            }
            Doc::IfBreak {
                break_contents,
                flat_contents,
                group_id,
            } => {
                let group_mode = match group_id {
                    Some(id) => group_modes.get(id).copied().unwrap_or(Mode::Flat),
                    None => mode,
                };
                let contents = if group_mode == Mode::Break {
                    break_contents
                } else {
                    flat_contents
                };
                stack.push((mode, contents));
            }
            Doc::Line { soft, hard } => {
                if mode == Mode::Break || *hard {
                    return true;
                }
                if !*soft {
                    width -= 1;
                }
            }
            Doc::BreakParent => {}
        }
    }
    false
}

/// Prints `doc` at `PRINT_WIDTH` columns.
pub fn print(mut doc: Doc) -> String {
    propagate_breaks(&mut doc);
    let mut group_modes: HashMap<GroupId, Mode> = HashMap::new();
    let mut out = String::new();
    let mut pos: usize = 0;
    let mut should_remeasure = false;
    let mut cmds: Vec<Command<'_>> = vec![Command {
        indent: 0,
        mode: Mode::Break,
        doc: &doc,
    }];
    while let Some(Command { indent, mode, doc }) = cmds.pop() {
        match doc {
            Doc::Text(s) => {
                out.push_str(s);
                pos += width_of(s);
            }
            Doc::Concat(parts) => {
                for part in parts.iter().rev() {
                    cmds.push(Command {
                        indent,
                        mode,
                        doc: part,
                    });
                }
            }
            Doc::Indent(contents) => cmds.push(Command {
                indent: indent + INDENT_WIDTH,
                mode,
                doc: contents,
            }),
            Doc::Align(n, contents) => cmds.push(Command {
                indent: indent + n,
                mode,
                doc: contents,
            }),
            Doc::Group {
                contents,
                should_break,
                id,
            } => {
                let flat_is_enough = mode == Mode::Flat && !should_remeasure;
                let chosen = if flat_is_enough {
                    if *should_break {
                        Mode::Break
                    } else {
                        Mode::Flat
                    }
                } else {
                    should_remeasure = false;
                    let next = Command {
                        indent,
                        mode: Mode::Flat,
                        doc: contents,
                    };
                    let remaining = PRINT_WIDTH as isize - pos as isize;
                    if !*should_break && fits(next, &cmds, remaining, &group_modes) {
                        Mode::Flat
                    } else {
                        Mode::Break
                    }
                };
                cmds.push(Command {
                    indent,
                    mode: chosen,
                    doc: contents,
                });
                if let Some(id) = id {
                    group_modes.insert(*id, chosen);
                }
            }
            Doc::IfBreak {
                break_contents,
                flat_contents,
                group_id,
            } => {
                let group_mode = match group_id {
                    Some(id) => group_modes.get(id).copied(),
                    None => Some(mode),
                };
                let contents = match group_mode {
                    Some(Mode::Break) => Some(break_contents),
                    Some(Mode::Flat) => Some(flat_contents),
                    None => None,
                };
                if let Some(contents) = contents {
                    cmds.push(Command {
                        indent,
                        mode,
                        doc: contents,
                    });
                }
            }
            Doc::IndentIfBreak { contents, group_id } => match group_modes.get(group_id) {
                Some(Mode::Break) => cmds.push(Command {
                    indent: indent + INDENT_WIDTH,
                    mode,
                    doc: contents,
                }),
                Some(Mode::Flat) => cmds.push(Command {
                    indent,
                    mode,
                    doc: contents,
                }),
                None => {}
            },
            Doc::Line { soft, hard } => {
                if mode == Mode::Flat && !*hard {
                    if !*soft {
                        out.push(' ');
                        pos += 1;
                    }
                    continue;
                }
                if mode == Mode::Flat {
                    // A hard line inside a flat group: the groups after it
                    // must be measured again.
                    should_remeasure = true;
                }
                trim_end(&mut out);
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                pos = indent;
            }
            Doc::BreakParent => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Doc {
        group(concat(vec![
            text("<"),
            indent(concat(vec![
                softline(),
                join(
                    concat(vec![text(","), line()]),
                    items.iter().map(|s| text(*s)).collect(),
                ),
            ])),
            softline(),
            text(">"),
        ]))
    }

    #[test]
    fn a_group_that_fits_stays_flat() {
        let doc = concat(vec![text("Foo"), args(&["a", "b"])]);
        assert_eq!(print(doc), "Foo<a, b>");
    }

    #[test]
    fn a_group_past_eighty_columns_breaks_with_indentation() {
        let long = "x".repeat(40);
        let doc = concat(vec![text("Foo"), args(&[&long, &long])]);
        assert_eq!(print(doc), format!("Foo<\n  {long},\n  {long}\n>"));
    }

    #[test]
    fn exactly_eighty_columns_fits_but_eighty_one_does_not() {
        // "Foo<" + a + ", " + b + ">" = 4 + 2 + 1 + len(a) + len(b)
        let a = "a".repeat(36);
        let b = "b".repeat(37);
        assert_eq!(
            print(concat(vec![text("Foo"), args(&[&a, &b])]))
                .lines()
                .count(),
            1
        );
        let b = "b".repeat(38);
        assert_eq!(
            print(concat(vec![text("Foo"), args(&[&a, &b])]))
                .lines()
                .count(),
            4
        );
    }

    #[test]
    fn text_after_a_group_counts_towards_its_fit() {
        // The trailing ";" lives outside the group but on the same line.
        let a = "a".repeat(36);
        let b = "b".repeat(37);
        let doc = concat(vec![text("Foo"), args(&[&a, &b]), text(";")]);
        assert_eq!(print(doc).lines().count(), 4);
    }

    #[test]
    fn a_hard_line_breaks_the_enclosing_groups() {
        let doc = group(concat(vec![
            text("{"),
            indent(concat(vec![line(), text("a")])),
            hardline(),
            text("}"),
        ]));
        assert_eq!(print(doc), "{\n  a\n}");
    }

    #[test]
    fn if_break_follows_the_named_group() {
        let mut ids = Ids::default();
        let id = ids.next();
        let doc = concat(vec![
            group_with(text("x"), true, Some(id)),
            Doc::IfBreak {
                break_contents: Box::new(text("B")),
                flat_contents: Box::new(text("F")),
                group_id: Some(id),
            },
        ]);
        assert_eq!(print(doc), "xB");
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(width_of("abc"), 3);
        assert_eq!(width_of("日本語"), 6);
        assert_eq!(width_of("héllo"), 5);
        assert_eq!(width_of("a\tb"), 2);
        assert_eq!(width_of("🎉"), 2);
    }

    #[test]
    fn trailing_spaces_are_trimmed_before_a_newline() {
        let doc = group_with(
            concat(vec![text("a "), indent(concat(vec![line(), text("b")]))]),
            true,
            None,
        );
        assert_eq!(print(doc), "a\n  b");
    }
}

//! The `rules:if` / `workflow:rules:if` expression language (GitLab's
//! `Gitlab::Ci::Pipeline::Expression`): a lexer, a recursive-descent parser with bounded
//! nesting, and a total evaluator.
//!
//! Grammar (`==`/`!=`/`=~`/`!~` bind tighter than `&&`, which binds tighter than `||`):
//!
//! ```text
//! expr    := and ("||" and)*
//! and     := compare ("&&" compare)*
//! compare := operand (("==" | "!=" | "=~" | "!~") operand)?
//! operand := $VAR | "string" | 'string' | /regex/flags | null | "(" expr ")"
//! ```
//!
//! Evaluation follows GitLab's Ruby semantics: an undefined variable is `null`; `&&` and `||`
//! return one of their operands (so `"" || $X` is `""`); the statement holds when its value is
//! "present" (not null, not false, not the empty string). Regexes use the `regex` crate (RE2-like,
//! linear time) with a small bounded compiled size. A pattern is compiled once to validate it and
//! again when evaluated, then dropped: a configuration full of patterns holds no compiled regexes.

use regex::{Regex, RegexBuilder};

use super::variables::Variables;

/// Deepest accepted nesting of parentheses.
pub const MAX_PARENS: usize = 50;
/// Largest compiled size of one regex, in bytes.
const REGEX_SIZE_LIMIT: usize = 32 * 1024;
/// Longest accepted expression, in bytes.
const MAX_EXPRESSION_BYTES: usize = 64 * 1024;

/// A parsed expression, ready to evaluate against any variables.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Var(String),
    Str(String),
    Null,
    /// `/body/flags`, validated at parse time.
    Pattern(String, String),
    Compare(Op, Box<Node>, Box<Node>),
    /// `a && b && …`, flat so that long chains do not nest.
    And(Vec<Node>),
    Or(Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Match,
    NoMatch,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Var(String),
    Str(String),
    Pattern(String, String),
    Null,
    Op(Op),
    And,
    Or,
    Open,
    Close,
}

/// A value during evaluation (Ruby's nil, String, true/false, Regexp).
#[derive(Debug, Clone)]
enum Value<'a> {
    Null,
    Str(&'a str),
    Bool(bool),
    Pattern(&'a str, &'a str),
}

impl Value<'_> {
    /// Ruby truthiness: only nil and false are falsy.
    fn truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    /// Rails' `present?`: also the empty string is not present.
    fn present(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            other => other.truthy(),
        }
    }
}

impl Expression {
    /// Parses an expression; the error says what is wrong (config errors report GitLab's
    /// "invalid expression syntax").
    pub fn parse(source: &str) -> Result<Expression, String> {
        if source.len() > MAX_EXPRESSION_BYTES {
            return Err(format!("the expression is longer than {MAX_EXPRESSION_BYTES} bytes"));
        }
        let tokens = lex(source)?;
        let mut parser = Parser { tokens, pos: 0, depth: 0 };
        let root = parser.expr()?;
        if parser.pos != parser.tokens.len() {
            return Err(format!("unexpected token after position {}", parser.pos));
        }
        Ok(Expression { source: source.to_string(), root })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the expression holds for these variables.
    pub fn evaluate(&self, vars: &Variables) -> bool {
        eval(&self.root, vars).present()
    }
}

fn lex(source: &str) -> Result<Vec<Token>, String> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = rest.get(..2).unwrap_or("");
        let (token, len) = match (c, two) {
            (_, "==") => (Token::Op(Op::Eq), 2),
            (_, "!=") => (Token::Op(Op::Ne), 2),
            (_, "=~") => (Token::Op(Op::Match), 2),
            (_, "!~") => (Token::Op(Op::NoMatch), 2),
            (_, "&&") => (Token::And, 2),
            (_, "||") => (Token::Or, 2),
            (b'(', _) => (Token::Open, 1),
            (b')', _) => (Token::Close, 1),
            (b'$', _) => {
                let name_len =
                    rest[1..].bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                if name_len == 0 {
                    return Err(format!("a variable name must follow $ at byte {i}"));
                }
                (Token::Var(rest[1..=name_len].to_string()), name_len + 1)
            }
            (b'"' | b'\'', _) => {
                let Some(end) = rest[1..].find(c as char) else {
                    return Err(format!("unterminated string at byte {i}"));
                };
                (Token::Str(rest[1..=end].to_string()), end + 2)
            }
            (b'/', _) => {
                let (pattern, flags, len) =
                    split_pattern(rest).ok_or_else(|| format!("bad pattern at byte {i}"))?;
                (Token::Pattern(pattern, flags), len)
            }
            _ if rest.starts_with("null")
                && !rest[4..].starts_with(|c: char| c.is_alphanumeric() || c == '_') =>
            {
                (Token::Null, 4)
            }
            _ => return Err(format!("unknown token at byte {i}")),
        };
        tokens.push(token);
        i += len;
    }
    Ok(tokens)
}

/// Splits `/body/flags…` into the regex body (with `\/` unescaped), its flags and the length
/// consumed. Flags are `i`, `m`, `s`, `U`.
fn split_pattern(text: &str) -> Option<(String, String, usize)> {
    let mut body = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '/')) => body.push('/'),
                Some((_, other)) => {
                    body.push('\\');
                    body.push(other);
                }
                None => return None,
            },
            '/' => {
                if body.is_empty() {
                    return None;
                }
                let flags: String =
                    text[i + 1..].chars().take_while(|c| matches!(c, 'i' | 'm' | 's' | 'U')).collect();
                return Some((body, flags.clone(), i + 1 + flags.len()));
            }
            _ => body.push(c),
        }
    }
    None
}

fn compile_pattern(body: &str, flags: &str) -> Result<Regex, String> {
    RegexBuilder::new(body)
        .case_insensitive(flags.contains('i'))
        // Ruby's /m is "dot matches newline"; its ^ and $ always match at line breaks.
        .multi_line(true)
        .dot_matches_new_line(flags.contains('m') || flags.contains('s'))
        .swap_greed(flags.contains('U'))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regular expression: {e}"))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn expr(&mut self) -> Result<Node, String> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Node::Or(terms) })
    }

    fn and(&mut self) -> Result<Node, String> {
        let mut terms = vec![self.compare()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            terms.push(self.compare()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Node::And(terms) })
    }

    fn compare(&mut self) -> Result<Node, String> {
        let left = self.operand()?;
        if let Some(Token::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let right = self.operand()?;
            return Ok(Node::Compare(op, Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Node, String> {
        let token = self.peek().cloned().ok_or("the expression ends where a value is expected")?;
        self.pos += 1;
        match token {
            Token::Var(name) => Ok(Node::Var(name)),
            Token::Str(s) => Ok(Node::Str(s)),
            Token::Null => Ok(Node::Null),
            Token::Pattern(body, flags) => {
                compile_pattern(&body, &flags)?;
                Ok(Node::Pattern(body, flags))
            }
            Token::Open => {
                self.depth += 1;
                if self.depth > MAX_PARENS {
                    return Err(format!("parentheses are nested deeper than {MAX_PARENS} levels"));
                }
                let inner = self.expr()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a parenthesis is not closed".to_string());
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            other => Err(format!("unexpected {other:?} where a value is expected")),
        }
    }
}

fn eval<'a>(node: &'a Node, vars: &'a Variables) -> Value<'a> {
    match node {
        Node::Var(name) => vars.get(name).map_or(Value::Null, Value::Str),
        Node::Str(s) => Value::Str(s),
        Node::Null => Value::Null,
        Node::Pattern(body, flags) => Value::Pattern(body, flags),
        Node::And(terms) => {
            let mut last = Value::Bool(true);
            for term in terms {
                last = eval(term, vars);
                if !last.truthy() {
                    break;
                }
            }
            last
        }
        Node::Or(terms) => {
            let mut last = Value::Null;
            for term in terms {
                last = eval(term, vars);
                if last.truthy() {
                    break;
                }
            }
            last
        }
        Node::Compare(op, left, right) => {
            let (l, r) = (eval(left, vars), eval(right, vars));
            Value::Bool(match op {
                Op::Eq => equal(&l, &r),
                Op::Ne => !equal(&l, &r),
                Op::Match => matches(&l, &r),
                Op::NoMatch => !matches(&l, &r),
            })
        }
    }
}

fn equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Pattern(a, af), Value::Pattern(b, bf)) => a == b && af == bf,
        _ => false,
    }
}

/// `text =~ pattern`. A variable or string on the right holding `/…/flags` text is compiled on
/// the fly; anything else on the right never matches.
fn matches(l: &Value, r: &Value) -> bool {
    let text = match l {
        Value::Null => "",
        Value::Str(s) => s,
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Pattern(body, _) => body,
    };
    match r {
        Value::Pattern(body, flags) => compile_pattern(body, flags).is_ok_and(|re| re.is_match(text)),
        Value::Str(s) => match split_pattern(s) {
            Some((body, flags, len)) if len == s.len() => {
                compile_pattern(&body, &flags).is_ok_and(|re| re.is_match(text))
            }
            _ => false,
        },
        _ => false,
    }
}

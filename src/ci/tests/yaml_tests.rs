use crate::ci::yaml::{Limits, Yaml, load};

fn load_default(text: &str) -> Result<Yaml, String> {
    load(text, &Limits::default())
}

#[test]
fn plain_scalars_resolve_like_gitlabs_yaml_loader() {
    let doc = load_default(
        "a: 1\nb: -2\nc: 1.5\nd: true\ne: no\nf: ~\ng:\nh: '1'\ni: \"true\"\nj: 010\nk: text\nl: !!str 3\nm: 1e3\n",
    )
    .unwrap();
    let table: &[(&str, Yaml)] = &[
        ("a", Yaml::Int(1)),
        ("b", Yaml::Int(-2)),
        ("c", Yaml::Float("1.5".into())),
        ("d", Yaml::Bool(true)),
        ("e", Yaml::Bool(false)),
        ("f", Yaml::Null),
        ("g", Yaml::Null),
        ("h", Yaml::Str("1".into())),
        ("i", Yaml::Str("true".into())),
        ("j", Yaml::Str("010".into())),
        ("k", Yaml::Str("text".into())),
        ("l", Yaml::Str("3".into())),
        ("m", Yaml::Str("1e3".into())),
    ];
    for (key, expected) in table {
        assert_eq!(doc.get(key), Some(expected), "{key}");
    }
}

#[test]
fn merge_keys_bring_in_the_anchored_mapping_and_explicit_keys_win() {
    let doc = load_default(".base: &base\n  a: 1\n  b: 2\njob:\n  <<: *base\n  b: 3\n").unwrap();
    let job = doc.get("job").unwrap();
    assert_eq!(job, &Yaml::Map(vec![("a".into(), Yaml::Int(1)), ("b".into(), Yaml::Int(3))]));
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    let doc = load_default("a: 1\na: 2\n").unwrap();
    assert_eq!(doc, Yaml::Map(vec![("a".into(), Yaml::Int(2))]));
}

#[test]
fn a_billion_laughs_document_is_an_error_not_an_out_of_memory() {
    let mut doc =
        String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        doc.push_str(&format!("{}: &{} [{}]\n", pair[1], pair[1], refs));
    }
    let err = load_default(&doc).unwrap_err();
    assert!(err.starts_with("The parsed YAML is too big"), "{err}");
}

#[test]
fn an_alias_of_a_long_string_repeated_many_times_is_an_error() {
    let mut doc = format!("a: &a \"{}\"\nb: [", "x".repeat(100_000));
    doc.push_str(&vec!["*a"; 100].join(","));
    doc.push_str("]\n");
    let err = load_default(&doc).unwrap_err();
    assert!(err.contains("bytes of text once aliases are expanded"), "{err}");
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error() {
    let limits = Limits::default();
    let ok = format!("{}{}", "[".repeat(limits.max_depth), "]".repeat(limits.max_depth));
    assert!(load_default(&ok).is_ok());
    let deep = format!("{}{}", "[".repeat(limits.max_depth + 1), "]".repeat(limits.max_depth + 1));
    assert!(load_default(&deep).unwrap_err().contains("nesting deeper than 100 levels"));
    let huge = "[".repeat(500_000);
    assert!(load_default(&huge).is_err());
}

#[test]
fn an_alias_that_would_nest_too_deep_is_an_error() {
    let inner = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let doc = format!("a: &a {inner}\nb: {}*a{}\n", "[".repeat(50), "]".repeat(50));
    assert!(load_default(&doc).unwrap_err().contains("nesting deeper"));
}

#[test]
fn a_document_larger_than_the_limit_is_rejected_before_parsing() {
    let limits = Limits { max_bytes: 10, ..Limits::default() };
    let err = load("key: a value that is too long", &limits).unwrap_err();
    assert_eq!(err, "The parsed YAML is too big: 29 bytes, the limit is 10 bytes");
}

#[test]
fn syntax_errors_read_like_psych_messages() {
    let err = load_default("a: [1, 2\n").unwrap_err();
    assert!(err.starts_with("(<unknown>): "), "{err}");
    assert!(err.contains(" at line "), "{err}");
}

#[test]
fn an_alias_to_an_unknown_anchor_is_an_error() {
    assert!(load_default("a: *nowhere\n").is_err());
    assert!(load_default("a: &x [*x]\n").is_err());
}

#[test]
fn a_second_document_is_an_error() {
    assert!(load_default("a: 1\n---\nb: 2\n").unwrap_err().contains("multiple YAML documents"));
}

#[test]
fn custom_tags_such_as_reference_are_rejected() {
    let err = load_default("a: !reference [.x, script]\n").unwrap_err();
    assert!(err.contains("unsupported YAML tag"), "{err}");
}

#[test]
fn non_scalar_mapping_keys_are_rejected() {
    assert!(load_default("? [a, b]\n: 1\n").unwrap_err().contains("mapping keys must be scalars"));
}

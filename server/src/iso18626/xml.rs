//! A small, namespace-aware XML tree for ISO 18626 messages: read from
//! untrusted bytes with limits (size, depth, element count), no DTD and no
//! entities but XML's five and character references; written back with
//! the ISO 18626 namespace as the default one.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// The ISO 18626 namespace (the same for v1.1, v1.2 and 2021).
pub const NS: &str = "http://illtransactions.org/2013/iso18626";

/// The largest message Kauko reads.
pub const MAX_BYTES: usize = 1024 * 1024;
/// The deepest nesting a message may have (the deepest in the schema is 6).
pub const MAX_DEPTH: usize = 32;
/// The most elements a message may have.
pub const MAX_ELEMENTS: usize = 20_000;

/// One element: its local name, its attributes (local names), its text
/// (the concatenated character data directly inside it) and its children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

/// Why bytes are not an XML tree Kauko reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the message is not UTF-8")]
    NotUtf8,
    #[error("document type declarations (DTD) are not accepted")]
    Dtd,
    #[error("entity reference &{0}; is not accepted")]
    Entity(String),
    #[error("the message nests deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("the message has more than {MAX_ELEMENTS} elements")]
    TooMany,
    #[error("no root element")]
    NoRoot,
    #[error("not well-formed XML: {0}")]
    Malformed(String),
}

impl El {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// An element holding text.
    pub fn leaf(name: &str, text: &str) -> Self {
        Self {
            name: name.to_owned(),
            text: text.to_owned(),
            ..Self::default()
        }
    }

    /// The first child of this name.
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child of this name, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text, none when empty (an empty element is absent).
    pub fn value(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// A child's trimmed text, none when missing or empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).and_then(El::value)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the element has neither text nor children (`<x/>`).
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.children.is_empty()
    }

    pub fn push(&mut self, child: El) -> &mut Self {
        self.children.push(child);
        self
    }

    /// Adds a text child when there is a value.
    pub fn opt(&mut self, name: &str, value: &Option<String>) -> &mut Self {
        if let Some(v) = value {
            self.children.push(El::leaf(name, v));
        }
        self
    }
}

fn is_foreign(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Bound(n) => n.as_ref() != NS.as_bytes(),
        // No namespace (a partner that leaves it out) counts as ISO 18626;
        // an undeclared prefix is refused by the reader below.
        ResolveResult::Unbound => false,
        ResolveResult::Unknown(_) => true,
    }
}

/// The element's local name and attributes (foreign-namespace attributes
/// such as `xsi:schemaLocation` and namespace declarations left out).
fn open(reader: &NsReader<&[u8]>, e: &quick_xml::events::BytesStart<'_>) -> Result<El, XmlError> {
    let bad = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let name = std::str::from_utf8(e.local_name().as_ref())
        .map_err(|_| XmlError::NotUtf8)?
        .to_owned();
    let mut el = El::new(&name);
    for attr in e.attributes() {
        let attr = attr.map_err(|e| bad(&e))?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, local) = reader.resolve_attribute(attr.key);
        if let ResolveResult::Bound(n) = &ns {
            if n.as_ref() != NS.as_bytes() {
                continue;
            }
        }
        if let ResolveResult::Unknown(p) = ns {
            return Err(XmlError::Malformed(format!(
                "undeclared prefix {}",
                String::from_utf8_lossy(&p)
            )));
        }
        let key = std::str::from_utf8(local.as_ref())
            .map_err(|_| XmlError::NotUtf8)?
            .to_owned();
        let value = attr.unescape_value().map_err(|e| match e {
            quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                _,
                name,
            )) => XmlError::Entity(name),
            other => bad(&other),
        })?;
        el.attrs.push((key, value.into_owned()));
    }
    Ok(el)
}

/// Reads a message's bytes into a tree: the root element, in the ISO 18626
/// namespace or in none (elements of other namespaces are dropped).
pub fn parse(bytes: &[u8]) -> Result<El, XmlError> {
    if bytes.len() > MAX_BYTES {
        return Err(XmlError::TooLarge(MAX_BYTES));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    let bad = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    // The open elements; a foreign element is kept on the stack (so its
    // end matches) but flagged, and dropped when it closes.
    let mut stack: Vec<(El, bool)> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| bad(&e))?;
        let foreign = is_foreign(&ns);
        if let ResolveResult::Unknown(p) = &ns {
            return Err(XmlError::Malformed(format!(
                "undeclared prefix {}",
                String::from_utf8_lossy(p)
            )));
        }
        match event {
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(XmlError::Malformed("content after the root element".into()));
            }
            Event::Start(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooMany);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let el = open(&reader, &e)?;
                stack.push((el, foreign));
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooMany);
                }
                let el = open(&reader, &e)?;
                match stack.last_mut() {
                    Some((parent, _)) if !foreign => parent.children.push(el),
                    Some(_) => {}
                    None if !foreign => root = Some(el),
                    None => return Err(XmlError::NoRoot),
                }
            }
            Event::End(_) => {
                let (mut el, el_foreign) = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                // Indentation between children is no text.
                if !el.children.is_empty() && el.text.trim().is_empty() {
                    el.text.clear();
                }
                match stack.last_mut() {
                    Some((parent, _)) if !el_foreign => parent.children.push(el),
                    Some(_) => {}
                    None if !el_foreign => root = Some(el),
                    None => return Err(XmlError::NoRoot),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| bad(&e))?;
                match stack.last_mut() {
                    Some((el, _)) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(XmlError::Malformed("text outside the root".into())),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| bad(&e))?;
                match stack.last_mut() {
                    Some((el, _)) => el.text.push_str(&s),
                    None => return Err(XmlError::Malformed("CDATA outside the root".into())),
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| bad(&e))?.into_owned();
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match name.as_str() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(XmlError::Entity(name)),
                    },
                    Err(e) => return Err(bad(&e)),
                };
                match stack.last_mut() {
                    Some((el, _)) => el.text.push(ch),
                    None => return Err(XmlError::Malformed("text outside the root".into())),
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or(XmlError::NoRoot)
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 cannot carry at all are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn write_el(el: &El, depth: usize, out: &mut String, root_attrs: &str) {
    let indent = "  ".repeat(depth);
    out.push_str(&indent);
    out.push('<');
    out.push_str(&el.name);
    out.push_str(root_attrs);
    for (k, v) in &el.attrs {
        out.push_str(" ill:");
        out.push_str(k);
        out.push_str("=\"");
        escape_text(v, out);
        out.push('"');
    }
    if el.children.is_empty() {
        if el.text.is_empty() {
            out.push_str("/>\n");
        } else {
            out.push('>');
            escape_text(&el.text, out);
            out.push_str("</");
            out.push_str(&el.name);
            out.push_str(">\n");
        }
        return;
    }
    out.push_str(">\n");
    for c in &el.children {
        write_el(c, depth + 1, out, "");
    }
    out.push_str(&indent);
    out.push_str("</");
    out.push_str(&el.name);
    out.push_str(">\n");
}

/// The document: an XML declaration and the root with the ISO 18626
/// namespace as default and as `ill:` (attributes are qualified in the
/// schema). Text children are written as they are (no mixed content).
pub fn write(root: &El) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let decl = format!(" xmlns=\"{NS}\" xmlns:ill=\"{NS}\"");
    write_el(root, 0, &mut out, &decl);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prefixed_and_default_namespaces_alike() {
        let a = parse(br#"<a:x xmlns:a="http://illtransactions.org/2013/iso18626" a:v="1"><a:y>t &amp; &#65;</a:y></a:x>"#).unwrap();
        let b = parse(br#"<x xmlns="http://illtransactions.org/2013/iso18626" xmlns:i="http://illtransactions.org/2013/iso18626" i:v="1"><y>t &amp; &#65;</y></x>"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text_of("y").as_deref(), Some("t & A"));
        assert_eq!(a.attr("v"), Some("1"));
    }

    #[test]
    fn refuses_dtds_entities_depth_and_size() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>"#;
        assert_eq!(parse(bomb), Err(XmlError::Dtd));
        assert_eq!(
            parse(b"<x>&nbsp;</x>"),
            Err(XmlError::Entity("nbsp".into()))
        );
        let deep = "<x>".repeat(100) + &"</x>".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        let big = vec![b' '; MAX_BYTES + 1];
        assert_eq!(parse(&big), Err(XmlError::TooLarge(MAX_BYTES)));
        assert!(matches!(parse(b"<x><y></x>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b""), Err(XmlError::NoRoot)));
        assert!(matches!(parse(b"<x/><y/>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn drops_foreign_elements_and_writes_back() {
        let el = parse(br#"<x xmlns="http://illtransactions.org/2013/iso18626" xmlns:o="urn:other"><o:z>no</o:z><y>a&lt;b</y></x>"#).unwrap();
        assert_eq!(el.children.len(), 1);
        let again = parse(write(&el).as_bytes()).unwrap();
        assert_eq!(el, again);
    }
}

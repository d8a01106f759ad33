//! Placeholder until the OpenURL parser lands from the lookup branch.
use super::identifiers::{parse_identifier, Identifier};
use super::{Citation, CitationType};

pub struct OpenUrlRequest {
    pub citation: Citation,
    pub identifiers: Vec<Identifier>,
}

pub fn parse_openurl<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<OpenUrlRequest> {
    let mut c = Citation::default();
    let mut ids = Vec::new();
    for (k, v) in pairs {
        match k {
            "rft.atitle" => c.title = v.to_owned(),
            "rft.jtitle" => c.container_title = Some(v.to_owned()),
            "rft.date" => c.year = Some(v.chars().take(4).collect()),
            "rft_id" => ids.extend(parse_identifier(v).ok()),
            _ => {}
        }
    }
    c.kind = Some(CitationType::Article);
    (!c.title.is_empty() || !ids.is_empty()).then_some(OpenUrlRequest {
        citation: c,
        identifiers: ids,
    })
}

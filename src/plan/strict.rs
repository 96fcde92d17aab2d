//! JSON values that refuse duplicate object keys.
//!
//! `serde_json::Value` keeps the last of two equal keys. Terraform never writes duplicates, so a
//! plan that has them was edited, and two readers may take different copies: one tool sees
//! `"member": "user:a"`, another `"member": "allUsers"`. Resource changes are read through
//! [`StrictValue`], which refuses them.
//!
//! A [`Projection`] keeps only the attribute paths the analysis reads (a Cloud Run service's
//! probes, ports and images are skipped without building anything); the masks
//! `after_unknown` and `*_sensitive` mirror the value and take the same projection.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Which parts of a JSON value to keep.
#[derive(Debug)]
pub enum Projection {
    /// The whole value.
    All,
    /// In objects, only these keys, each with its own projection; arrays (nested blocks) apply
    /// the projection to each element; scalars are kept.
    Keys(&'static [(&'static str, Projection)]),
}

impl Projection {
    fn child(&self, key: &str) -> Option<&Projection> {
        match self {
            Projection::All => Some(self),
            Projection::Keys(keys) => keys.iter().find(|(k, _)| *k == key).map(|(_, p)| p),
        }
    }
}

/// A `serde_json::Value` deserialized with duplicate keys refused.
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de::DeserializeSeed::deserialize(Projected(&Projection::All), deserializer).map(StrictValue)
    }
}

/// Deserializes a strict value restricted to a projection.
pub struct Projected<'p>(pub &'p Projection);

impl<'de> de::DeserializeSeed<'de> for Projected<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor(self.0))
    }
}

struct StrictVisitor<'p>(&'p Projection);

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::DeserializeSeed::deserialize(Projected(self.0), d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(Projected(self.0))? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let Some(child) = self.0.child(&key) else {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            };
            if out.contains_key(key.as_ref()) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let v = map.next_value_seed(Projected(child))?;
            out.insert(key.into_owned(), v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_keeps_only_the_listed_paths() {
        static P: Projection = Projection::Keys(&[
            ("name", Projection::All),
            (
                "template",
                Projection::Keys(&[("service_account", Projection::All)]),
            ),
        ]);
        let text =
            r#"{"name":"api","image":"x","template":[{"service_account":"a@b","probes":[1,2]}]}"#;
        let v = de::DeserializeSeed::deserialize(
            Projected(&P),
            &mut serde_json::Deserializer::from_str(text),
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name":"api","template":[{"service_account":"a@b"}]})
        );
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        let ok: StrictValue = serde_json::from_str(r#"{"a":[{"b":1,"c":2}]}"#).unwrap();
        assert_eq!(ok.0, serde_json::json!({"a":[{"b":1,"c":2}]}));
        let err = serde_json::from_str::<StrictValue>(r#"{"a":[{"m":"user:a","m":"allUsers"}]}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("duplicate key `m`"), "{err}");
    }
}

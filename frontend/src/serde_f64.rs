//! Exact serde forms of `f64` values that may be non-finite (JSON has no infinity or NaN): a
//! finite value is a JSON number (written shortest-round-trip, read back exactly with
//! serde_json's `float_roundtrip`), a non-finite one the string `"inf"`, `"-inf"` or `"nan"`.
//! Use with `#[serde(with = "crate::serde_f64")]` (or `::opt`, `::vec`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Num(f64),
    Text(String),
}

fn to_repr(v: f64) -> Repr {
    match v {
        v if v.is_finite() => Repr::Num(v),
        v if v.is_nan() => Repr::Text("nan".into()),
        v if v > 0.0 => Repr::Text("inf".into()),
        _ => Repr::Text("-inf".into()),
    }
}

fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
    match r {
        Repr::Num(v) => Ok(v),
        Repr::Text(t) => match t.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(E::custom(format!("'{t}' is not a number, inf, -inf or nan"))),
        },
    }
}

pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    to_repr(*v).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    from_repr(Repr::deserialize(d)?)
}

/// `Option<f64>`.
pub mod opt {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(to_repr).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<Repr>::deserialize(d)?.map(from_repr).transpose()
    }
}

/// `Vec<f64>`.
pub mod vec {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter().map(|&x| to_repr(x)).collect::<Vec<_>>().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Repr>::deserialize(d)?.into_iter().map(from_repr).collect()
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        a: f64,
        #[serde(with = "super::opt")]
        b: Option<f64>,
        #[serde(with = "super::vec")]
        c: Vec<f64>,
    }

    #[test]
    fn every_value_round_trips_exactly() {
        let vals =
            [0.1, -0.0, 1e-310, f64::MAX, f64::MIN_POSITIVE, 1.0 / 3.0, f64::INFINITY, f64::NEG_INFINITY, 2.5e-8];
        let t = T { a: f64::NEG_INFINITY, b: Some(f64::INFINITY), c: vals.to_vec() };
        let back: T = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back.a, f64::NEG_INFINITY);
        assert_eq!(back.b, Some(f64::INFINITY));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.c), bits(&vals));
        let nan: T = serde_json::from_str(r#"{"a": "nan", "b": null, "c": []}"#).unwrap();
        assert!(nan.a.is_nan() && nan.b.is_none());
        assert!(serde_json::from_str::<T>(r#"{"a": "many", "b": null, "c": []}"#).is_err());
    }
}

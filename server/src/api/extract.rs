//! Extractors whose rejections are our JSON errors
//! (`{"error": {"code": "bad_request", "message": ...}}`) rather than
//! axum's plain-text ones.

use app::error::AppError;
use axum::{
    extract::{
        FromRequest, FromRequestParts, Query, Request,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `Json<T>` answering malformed bodies with a 400 that says what is wrong
/// (and where). A number with a zero fraction (`3.0`) is read as the
/// integer it is: JSON Schema counts it as one, and generated clients send it.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(request, state).await?;
        whole_numbers_as_integers(&mut value);
        serde_path_to_error::deserialize(value).map(ApiJson).map_err(|e| {
            ApiRejection(AppError::BadRequest {
                message: format!("Failed to deserialize the JSON body into the target type: {e}"),
            })
        })
    }
}

/// Up to 2^53 every whole number is exactly one float; beyond it a float
/// (such as the one serde reads for `-9223372036854775809`) may stand for
/// several integers, and is left to fail as the float it is. (serde_json
/// reads floats exactly with its `float_roundtrip` feature, on in the
/// workspace: without it `-2101639031482693.0` is read as a float with a
/// fraction and refused.)
const EXACT_BOUND: f64 = 9_007_199_254_740_992.0;

/// Replaces every float without a fraction up to 2^53 by that integer.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() <= EXACT_BOUND
            {
                // Whole and within 2^53: the conversion is exact.
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// `Path<T>` answering malformed path parameters with a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiRejection))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` answering malformed query strings, and parameters `T` does
/// not know (a misspelt filter would otherwise be ignored in silence), with
/// a 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::try_from_uri(&parts.uri)?;
        if let Some(known) = field_names::<T>() {
            let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)?;
            if let Some((unknown, _)) = pairs.iter().find(|(name, _)| !known.contains(&name.as_str())) {
                return Err(ApiRejection(AppError::BadRequest {
                    message: format!(
                        "unknown query parameter `{unknown}`; this operation takes {}",
                        known.join(", ")
                    ),
                }));
            }
        }
        Ok(ApiQuery(value))
    }
}

/// The field names of the struct `T` deserialises as; `None` when it is
/// not a plain struct (a map, or one with flattened fields).
fn field_names<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    // The probe always fails: it only asks `T` which fields it reads.
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

/// A deserializer that records the field list a struct asks it for.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldProbe<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// A rejected request part, answered as [`AppError::BadRequest`].
#[derive(Debug)]
pub struct ApiRejection(AppError);

impl axum::response::IntoResponse for ApiRejection {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

impl From<JsonRejection> for ApiRejection {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return Self(too_large());
        }
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

/// The answer to a body over the limit.
pub fn too_large() -> AppError {
    AppError::PayloadTooLarge {
        message: format!("the request body is larger than {} bytes (1 MiB)", BODY_LIMIT),
    }
}

/// The largest request body accepted (run reports carry at most 10 KB of log).
pub const BODY_LIMIT: usize = 1024 * 1024;

impl From<PathRejection> for ApiRejection {
    fn from(rejection: PathRejection) -> Self {
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

impl From<QueryRejection> for ApiRejection {
    fn from(rejection: QueryRejection) -> Self {
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_reads_a_structs_field_names() {
        #[derive(serde::Deserialize)]
        #[expect(dead_code)]
        struct Filter {
            limit: Option<i64>,
            tag: Option<String>,
        }
        assert_eq!(field_names::<Filter>(), Some(&["limit", "tag"][..]));
        assert_eq!(field_names::<std::collections::HashMap<String, String>>(), None);
    }

    #[test]
    fn whole_floats_become_integers_and_others_stay() {
        let mut value = serde_json::json!({"a": 3.0, "b": [-2.0, 1.5, 7], "c": {"d": 1e300, "e": "4.0"}});
        whole_numbers_as_integers(&mut value);
        assert_eq!(value, serde_json::json!({"a": 3, "b": [-2, 1.5, 7], "c": {"d": 1e300, "e": "4.0"}}));
        let mut beyond: Value = serde_json::from_str("-9223372036854775809").unwrap_or_default();
        whole_numbers_as_integers(&mut beyond);
        assert!(beyond.is_f64(), "an integer past i64 must not be rounded into range");
        assert!(value["a"].is_i64());
        // A large whole float is read exactly (schemathesis found this one).
        let mut large: Value = serde_json::from_str("[-2101639031482693.0]").unwrap_or_default();
        whole_numbers_as_integers(&mut large);
        assert_eq!(large, serde_json::json!([-2_101_639_031_482_693_i64]));
    }
}

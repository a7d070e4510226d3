//! Wire types: what crosses the network between the browser, scripts and
//! the server, and how people read them ([`format`]). Server-only row
//! types live next to their queries in each domain's store. With the `ssr`
//! feature the types also describe themselves for the OpenAPI document,
//! and the enums that are stored map to text columns ([`text_enum!`]).

pub mod audit;
pub mod calendar;
pub mod dashboard;
pub mod flash;
pub mod format;
pub mod job;
pub mod notify;
pub mod ops;
pub mod report;
pub mod schedule;
pub mod token;
pub mod user;
pub mod veeam;

use serde::{Deserialize, Serialize};

/// One page of a list, newest first, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Stores an enum as its text name (`as_str` / `parse`) on both databases,
/// so the columns keep the spelling they always had and need no migration.
/// A stored name the code does not know is a decode error naming the
/// value, never read as a default.
#[cfg(feature = "ssr")]
macro_rules! text_enum {
    ($ty:ty, $what:literal) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<'r, DB>>::decode(value)?;
                <$ty>::parse(text).ok_or_else(|| format!("unknown {} `{}`", $what, text).into())
            }
        }
    };
}
#[cfg(feature = "ssr")]
pub(crate) use text_enum;

//! The emulated models, their fields, and Odoo's exceptions as the emulator raises them.

/// An emulated Odoo model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Model {
    Partner,
    RegId,
    IdType,
}

impl Model {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "res.partner" => Some(Self::Partner),
            "g2p.reg.id" => Some(Self::RegId),
            "g2p.id.type" => Some(Self::IdType),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Partner => "res.partner",
            Self::RegId => "g2p.reg.id",
            Self::IdType => "g2p.id.type",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The model's `_order`: what `search` and `search_read` sort by without an `order`.
    pub(crate) fn default_order(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Partner => &[("complete_name", false), ("id", true)],
            Self::RegId => &[("id", true)],
            Self::IdType => &[("name", false), ("id", false)],
        }
    }

    /// The fields of the model, in Odoo's order, with their kinds.
    pub(crate) fn fields(self) -> &'static [(&'static str, Kind)] {
        use Kind::*;
        match self {
            Self::Partner => &[
                ("id", Id),
                ("name", Char),
                ("display_name", DisplayName),
                ("complete_name", DisplayName),
                ("given_name", Char),
                ("family_name", Char),
                ("addl_name", Char),
                ("birthdate", Date),
                ("gender", Char),
                ("email", Char),
                ("phone", Char),
                ("address", Char),
                ("ref", Char),
                ("is_registrant", Bool),
                ("is_group", Bool),
                ("active", Bool),
                ("registration_date", Date),
                ("civil_status", Char),
                ("occupation", Char),
                ("income", Number),
                ("company_id", Number),
                ("reg_ids", One2many(Model::RegId)),
                ("create_date", Datetime),
                ("write_date", Datetime),
            ],
            Self::RegId => &[
                ("id", Id),
                ("display_name", DisplayName),
                ("partner_id", Many2one(Model::Partner)),
                ("id_type", Many2one(Model::IdType)),
                ("value", Char),
                ("expiry_date", Date),
                ("status", Char),
                ("description", Char),
                ("create_date", Datetime),
                ("write_date", Datetime),
            ],
            Self::IdType => &[
                ("id", Id),
                ("name", Char),
                ("display_name", DisplayName),
                ("id_validation", Char),
                ("create_date", Datetime),
                ("write_date", Datetime),
            ],
        }
    }
}

/// What a field holds, as far as the emulator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The record id (not stored in the row).
    Id,
    /// Computed from `name` (for `g2p.reg.id`, from the type and value).
    DisplayName,
    /// Text of any kind (char, text, selection).
    Char,
    Bool,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS`, set by the emulator.
    Datetime,
    /// Stored as the related id; read as `[id, "display name"]` or `false`.
    Many2one(Model),
    /// `res.partner.reg_ids`: computed from the index; read as a list of ids.
    One2many(Model),
}

impl Kind {
    pub(crate) fn is_relational(self) -> bool {
        matches!(self, Self::Many2one(_) | Self::One2many(_))
    }

    pub(crate) fn target(self) -> Option<Model> {
        match self {
            Self::Many2one(m) | Self::One2many(m) => Some(m),
            _ => None,
        }
    }
}

/// An Odoo exception as the emulator raises it: turned into Odoo's JSON-RPC error envelope.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) code: i64,
    pub(crate) title: &'static str,
    pub(crate) name: &'static str,
    pub(crate) message: String,
    /// What the emulator's own REST API says instead, when `message` quotes a value as Odoo's
    /// does (the emulator never echoes personal data outside Odoo's JSON-RPC envelope).
    public: Option<&'static str>,
}

impl Fault {
    fn server(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: 200,
            title: "Odoo Server Error",
            name,
            message: message.into(),
            public: None,
        }
    }

    /// The message, or its value-free version when it quotes a value.
    pub(crate) fn into_public_message(self) -> String {
        self.public.map_or(self.message, str::to_owned)
    }

    /// Any other Python exception, by its qualified name.
    pub(crate) fn server_named(name: &'static str, message: impl Into<String>) -> Self {
        Self::server(name, message)
    }

    pub(crate) fn access_denied() -> Self {
        Self::server("odoo.exceptions.AccessDenied", "Access Denied")
    }

    pub(crate) fn access_error(message: impl Into<String>) -> Self {
        Self::server("odoo.exceptions.AccessError", message)
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::server("odoo.exceptions.ValidationError", message)
    }

    /// OpenG2P's refusal of a value its id type's `id_validation` does not match, worded as
    /// `g2p_registry_base` words it (quoting the value).
    pub(crate) fn invalid_value(type_name: &str, value: &str) -> Self {
        Self {
            public: Some("The provided ID is invalid."),
            ..Self::validation(format!("The provided {type_name} ID '{value}' is invalid."))
        }
    }

    pub(crate) fn user_error(message: impl Into<String>) -> Self {
        Self::server("odoo.exceptions.UserError", message)
    }

    pub(crate) fn missing() -> Self {
        Self::server(
            "odoo.exceptions.MissingError",
            "Record does not exist or has been deleted.",
        )
    }

    pub(crate) fn value_error(message: impl Into<String>) -> Self {
        Self::server("builtins.ValueError", message)
    }

    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        Self::server("builtins.TypeError", message)
    }

    pub(crate) fn key_error(message: impl Into<String>) -> Self {
        Self::server("builtins.KeyError", message)
    }

    pub(crate) fn attribute_error(message: impl Into<String>) -> Self {
        Self::server("builtins.AttributeError", message)
    }

    /// What Odoo 17 raises for a database that does not exist (PostgreSQL refuses the
    /// connection before any login is checked).
    pub(crate) fn no_database(database: &str) -> Self {
        Self::server(
            "psycopg2.OperationalError",
            format!(
                "connection to server failed: FATAL:  database \"{database}\" does not exist\n"
            ),
        )
    }

    pub(crate) fn exception(message: impl Into<String>) -> Self {
        Self::server("builtins.Exception", message)
    }

    pub(crate) fn invalid_field(model: Model, field: &str) -> Self {
        Self::value_error(format!(
            "Invalid field '{field}' on model '{}'",
            model.name()
        ))
    }

    pub(crate) fn session_expired() -> Self {
        Self {
            code: 100,
            title: "Odoo Session Expired",
            name: "odoo.http.SessionExpiredException",
            message: "Session expired".into(),
            public: None,
        }
    }
}

//! The field model a domain is checked against: models, their fields, types and relations.

use std::collections::BTreeMap;

/// The type of a field, with the target model of a relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `char`
    Char,
    /// `text`
    Text,
    /// `integer`
    Integer,
    /// `float` (and monetary)
    Float,
    /// `boolean`
    Boolean,
    /// `date`, `"YYYY-MM-DD"`
    Date,
    /// `datetime`, `"YYYY-MM-DD HH:MM:SS"` in UTC
    Datetime,
    /// `selection` (compared as text)
    Selection,
    /// `many2one` to the named model
    Many2one(String),
    /// `one2many` to the named model
    One2many(String),
    /// `many2many` to the named model
    Many2many(String),
}

impl FieldType {
    /// Odoo's name of the type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Char => "char",
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Selection => "selection",
            Self::Many2one(_) => "many2one",
            Self::One2many(_) => "one2many",
            Self::Many2many(_) => "many2many",
        }
    }

    /// The related model of a relational field.
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Many2one(t) | Self::One2many(t) | Self::Many2many(t) => Some(t),
            _ => None,
        }
    }
}

/// Models and their fields, to check domains against before anything is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldModel {
    models: BTreeMap<String, BTreeMap<String, FieldType>>,
}

impl FieldModel {
    /// No models at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// OpenG2P's registry models as OMC knows them: `res.partner`, `g2p.reg.id`,
    /// `g2p.id.type` and `res.company`. A deployment's extra fields are added with
    /// [`with_field`](Self::with_field).
    pub fn openg2p() -> Self {
        use FieldType::*;
        let m2o = |t: &str| Many2one(t.to_owned());
        let mut model = Self::new();
        let partner: [(&str, FieldType); 24] = [
            ("name", Char),
            ("display_name", Char),
            ("given_name", Char),
            ("family_name", Char),
            ("addl_name", Char),
            ("birthdate", Date),
            ("gender", Selection),
            ("email", Char),
            ("phone", Char),
            ("address", Text),
            ("ref", Char),
            ("is_registrant", Boolean),
            ("is_group", Boolean),
            ("active", Boolean),
            ("registration_date", Date),
            ("civil_status", Char),
            ("occupation", Char),
            ("income", Float),
            ("company_id", m2o("res.company")),
            ("reg_ids", One2many("g2p.reg.id".into())),
            ("create_date", Datetime),
            ("write_date", Datetime),
            ("id", Integer),
            ("birth_place", Char),
        ];
        let reg_id: [(&str, FieldType); 10] = [
            ("id", Integer),
            ("display_name", Char),
            ("partner_id", m2o("res.partner")),
            ("id_type", m2o("g2p.id.type")),
            ("value", Char),
            ("expiry_date", Date),
            ("status", Selection),
            ("description", Char),
            ("create_date", Datetime),
            ("write_date", Datetime),
        ];
        let id_type: [(&str, FieldType); 6] = [
            ("id", Integer),
            ("name", Char),
            ("display_name", Char),
            ("id_validation", Char),
            ("create_date", Datetime),
            ("write_date", Datetime),
        ];
        let company: [(&str, FieldType); 3] =
            [("id", Integer), ("name", Char), ("display_name", Char)];
        for (name, fields) in [
            ("res.partner", &partner[..]),
            ("g2p.reg.id", &reg_id[..]),
            ("g2p.id.type", &id_type[..]),
            ("res.company", &company[..]),
        ] {
            for (field, ty) in fields {
                model = model.with_field(name, field, ty.clone());
            }
        }
        model
    }

    /// The type of `model.field` in [`FieldModel::openg2p`], built once: what the in-memory
    /// registry's records answer to [`Record::field_type`](super::Record::field_type).
    pub fn openg2p_type(model: &str, field: &str) -> Option<FieldType> {
        static OPENG2P: std::sync::OnceLock<FieldModel> = std::sync::OnceLock::new();
        OPENG2P
            .get_or_init(FieldModel::openg2p)
            .field(model, field)
            .cloned()
    }

    /// This model with one more field (a model is created by its first field; every model has
    /// `id`).
    pub fn with_field(mut self, model: &str, name: &str, field_type: FieldType) -> Self {
        let fields = self.models.entry(model.to_owned()).or_default();
        fields.entry("id".to_owned()).or_insert(FieldType::Integer);
        fields.insert(name.to_owned(), field_type);
        self
    }

    /// The type of `model.field`.
    pub fn field(&self, model: &str, field: &str) -> Option<&FieldType> {
        self.models.get(model)?.get(field)
    }

    /// Whether the model is known.
    pub fn has_model(&self, model: &str) -> bool {
        self.models.contains_key(model)
    }

    /// The field names of a model (none for an unknown model).
    pub fn fields_of(&self, model: &str) -> impl Iterator<Item = &str> {
        self.models
            .get(model)
            .into_iter()
            .flat_map(|fields| fields.keys().map(String::as_str))
    }
}

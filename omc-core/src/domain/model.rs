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
    /// `html` (compared as text)
    Html,
    /// `monetary` (compared as a number)
    Monetary,
    /// `binary` (and image): only set or not set is worth asking
    Binary,
    /// `reference`: `"model,id"`
    Reference,
    /// `many2one_reference`: an id in the model another field names
    Many2oneReference,
    /// `json`
    Json,
    /// `properties` and `properties_definition`
    Properties,
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
            Self::Html => "html",
            Self::Monetary => "monetary",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Many2oneReference => "many2one_reference",
            Self::Json => "json",
            Self::Properties => "properties",
        }
    }

    /// The type of Odoo's `fields_get` `type` (with `relation` for a relational one); `None`
    /// for a type Odoo 17 does not have, or a relation without its model.
    pub fn from_odoo(odoo_type: &str, relation: Option<&str>) -> Option<Self> {
        let related = || relation.filter(|r| !r.is_empty()).map(str::to_owned);
        Some(match odoo_type {
            "char" => Self::Char,
            "text" => Self::Text,
            "html" => Self::Html,
            "integer" => Self::Integer,
            "float" => Self::Float,
            "monetary" => Self::Monetary,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" => Self::Datetime,
            "selection" => Self::Selection,
            "binary" | "image" => Self::Binary,
            "reference" => Self::Reference,
            "many2one_reference" => Self::Many2oneReference,
            "json" => Self::Json,
            "properties" | "properties_definition" => Self::Properties,
            "many2one" => Self::Many2one(related()?),
            "one2many" => Self::One2many(related()?),
            "many2many" => Self::Many2many(related()?),
            _ => return None,
        })
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
///
/// Each field has a type and says whether a domain can search it: Odoo 17 accepts a criterion
/// on a field that is neither stored nor given a search method, and replaces it by TRUE (it
/// selects every record), so such a field is known but refused in a filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldModel {
    models: BTreeMap<String, BTreeMap<String, Field>>,
}

/// One field of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    field_type: FieldType,
    searchable: bool,
}

impl FieldModel {
    /// No models at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// OpenG2P's registry models as OMC's in-memory registry and Odoo emulator hold them:
    /// `res.partner`, `g2p.reg.id`, `g2p.id.type` and `res.company`, with the fields OMC reads
    /// and writes. A configuration is checked against [`FieldModel::stock`], the whole of
    /// what a real registry has.
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

    /// This model with one more field a domain can search (a model is created by its first
    /// field; every model has `id`).
    pub fn with_field(self, model: &str, name: &str, field_type: FieldType) -> Self {
        self.with_described_field(model, name, field_type, true)
    }

    /// This model with one more field, searchable or not (see the type's documentation).
    pub fn with_described_field(
        mut self,
        model: &str,
        name: &str,
        field_type: FieldType,
        searchable: bool,
    ) -> Self {
        self.insert(model, name, field_type, searchable);
        self
    }

    pub(super) fn insert(
        &mut self,
        model: &str,
        name: &str,
        field_type: FieldType,
        searchable: bool,
    ) {
        let fields = self.models.entry(model.to_owned()).or_default();
        fields.entry("id".to_owned()).or_insert(Field {
            field_type: FieldType::Integer,
            searchable: true,
        });
        fields.insert(
            name.to_owned(),
            Field {
                field_type,
                searchable,
            },
        );
    }

    /// Drops what this model says of `model`.
    pub(super) fn forget(&mut self, model: &str) {
        self.models.remove(model);
    }

    /// This model with every model of `other` added, replacing a model both describe.
    pub fn merged(mut self, other: FieldModel) -> Self {
        self.models.extend(other.models);
        self
    }

    /// The type of `model.field`.
    pub fn field(&self, model: &str, field: &str) -> Option<&FieldType> {
        self.models.get(model)?.get(field).map(|f| &f.field_type)
    }

    /// Whether a domain can search `model.field` (false for an unknown one).
    pub fn is_searchable(&self, model: &str, field: &str) -> bool {
        self.models
            .get(model)
            .and_then(|fields| fields.get(field))
            .is_some_and(|f| f.searchable)
    }

    /// Whether the model is known.
    pub fn has_model(&self, model: &str) -> bool {
        self.models.contains_key(model)
    }

    /// The models described.
    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// The field names of a model (none for an unknown model).
    pub fn fields_of(&self, model: &str) -> impl Iterator<Item = &str> {
        self.models
            .get(model)
            .into_iter()
            .flat_map(|fields| fields.keys().map(String::as_str))
    }

    /// The names of the fields of a model a domain can search.
    pub fn searchable_fields_of(&self, model: &str) -> impl Iterator<Item = &str> {
        self.models.get(model).into_iter().flat_map(|fields| {
            fields
                .iter()
                .filter(|(_, f)| f.searchable)
                .map(|(name, _)| name.as_str())
        })
    }
}

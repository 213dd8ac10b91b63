//! The contract fields of document 000: wire names, which are required, and what they mean.

use std::fmt;

/// Number of contract fields, the key included.
pub const FIELD_COUNT: usize = 32;

/// One field of a contract, in the order the wire format writes them (`codeContrat` first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    /// `codeContrat`: the contract's key.
    CodeContrat,
    /// `dateDebut`: start date, `DD/MM/YYYY`.
    DateDebut,
    /// `dateFin`: end date, `DD/MM/YYYY`.
    DateFin,
    /// `nomEntreprise`: the company's name.
    NomEntreprise,
    /// `codeGroupe`: group code.
    CodeGroupe,
    /// `nomGroupe`: group name.
    NomGroupe,
    /// `codeSite`: site code.
    CodeSite,
    /// `nomSite`: site name.
    NomSite,
    /// `codePeriode`: period code.
    CodePeriode,
    /// `nomPeriode`: period name.
    NomPeriode,
    /// `codeAnnee`: year code.
    CodeAnnee,
    /// `nomAnnee`: year name.
    NomAnnee,
    /// `codeFormation`: programme code.
    CodeFormation,
    /// `nomFormation`: programme name.
    NomFormation,
    /// `codeMarque`: brand code.
    CodeMarque,
    /// `nomMarque`: brand name.
    NomMarque,
    /// `codeApprenant`: the apprentice's user code.
    CodeApprenant,
    /// `prenomApprenant`: the apprentice's first name.
    PrenomApprenant,
    /// `nomApprenant`: the apprentice's last name.
    NomApprenant,
    /// `emailApprenant`: the apprentice's email.
    EmailApprenant,
    /// `codePersonnel`: the school tutor's user code.
    CodePersonnel,
    /// `prenomPersonnel`: the school tutor's first name.
    PrenomPersonnel,
    /// `nomPersonnel`: the school tutor's last name.
    NomPersonnel,
    /// `emailPersonnel`: the school tutor's email.
    EmailPersonnel,
    /// `codeMaitreApprentissage`: the company tutor's user code.
    CodeMaitreApprentissage,
    /// `prenomMaitreApprentissage`: the company tutor's first name.
    PrenomMaitreApprentissage,
    /// `nomMaitreApprentissage`: the company tutor's last name.
    NomMaitreApprentissage,
    /// `emailMaitreApprentissage`: the company tutor's email.
    EmailMaitreApprentissage,
    /// `missionTitle`: the mission's title.
    MissionTitle,
    /// `missionDetails`: the mission's details.
    MissionDetails,
    /// `monthStartGroup`: the group's starting month.
    MonthStartGroup,
    /// `rncp`: the RNCP code of the qualification.
    Rncp,
}

impl Field {
    /// Every field, in wire order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::CodeContrat,
        Field::DateDebut,
        Field::DateFin,
        Field::NomEntreprise,
        Field::CodeGroupe,
        Field::NomGroupe,
        Field::CodeSite,
        Field::NomSite,
        Field::CodePeriode,
        Field::NomPeriode,
        Field::CodeAnnee,
        Field::NomAnnee,
        Field::CodeFormation,
        Field::NomFormation,
        Field::CodeMarque,
        Field::NomMarque,
        Field::CodeApprenant,
        Field::PrenomApprenant,
        Field::NomApprenant,
        Field::EmailApprenant,
        Field::CodePersonnel,
        Field::PrenomPersonnel,
        Field::NomPersonnel,
        Field::EmailPersonnel,
        Field::CodeMaitreApprentissage,
        Field::PrenomMaitreApprentissage,
        Field::NomMaitreApprentissage,
        Field::EmailMaitreApprentissage,
        Field::MissionTitle,
        Field::MissionDetails,
        Field::MonthStartGroup,
        Field::Rncp,
    ];

    /// The field's name on the wire, as document 000 spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Field::CodeContrat => "codeContrat",
            Field::DateDebut => "dateDebut",
            Field::DateFin => "dateFin",
            Field::NomEntreprise => "nomEntreprise",
            Field::CodeGroupe => "codeGroupe",
            Field::NomGroupe => "nomGroupe",
            Field::CodeSite => "codeSite",
            Field::NomSite => "nomSite",
            Field::CodePeriode => "codePeriode",
            Field::NomPeriode => "nomPeriode",
            Field::CodeAnnee => "codeAnnee",
            Field::NomAnnee => "nomAnnee",
            Field::CodeFormation => "codeFormation",
            Field::NomFormation => "nomFormation",
            Field::CodeMarque => "codeMarque",
            Field::NomMarque => "nomMarque",
            Field::CodeApprenant => "codeApprenant",
            Field::PrenomApprenant => "prenomApprenant",
            Field::NomApprenant => "nomApprenant",
            Field::EmailApprenant => "emailApprenant",
            Field::CodePersonnel => "codePersonnel",
            Field::PrenomPersonnel => "prenomPersonnel",
            Field::NomPersonnel => "nomPersonnel",
            Field::EmailPersonnel => "emailPersonnel",
            Field::CodeMaitreApprentissage => "codeMaitreApprentissage",
            Field::PrenomMaitreApprentissage => "prenomMaitreApprentissage",
            Field::NomMaitreApprentissage => "nomMaitreApprentissage",
            Field::EmailMaitreApprentissage => "emailMaitreApprentissage",
            Field::MissionTitle => "missionTitle",
            Field::MissionDetails => "missionDetails",
            Field::MonthStartGroup => "monthStartGroup",
            Field::Rncp => "rncp",
        }
    }

    /// Looks a wire name up. `ccodeContrat` is not a field of its own: see [`crate::parse`].
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether document 000 marks the field required (`*`). `dateDebut` and `dateFin` stay
    /// optional (DESIGN 8).
    pub const fn is_required(self) -> bool {
        !matches!(
            self,
            Field::DateDebut
                | Field::DateFin
                | Field::CodeMarque
                | Field::NomMarque
                | Field::MissionTitle
                | Field::MissionDetails
                | Field::MonthStartGroup
                | Field::Rncp
        )
    }

    /// Whether the field holds an email, compared case-insensitively.
    pub const fn is_email(self) -> bool {
        matches!(
            self,
            Field::EmailApprenant | Field::EmailPersonnel | Field::EmailMaitreApprentissage
        )
    }

    /// Whether the field holds a `DD/MM/YYYY` date.
    pub const fn is_date(self) -> bool {
        matches!(self, Field::DateDebut | Field::DateFin)
    }

    /// Position of the field in [`Field::ALL`] and in a contract's value array.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The three roles a user code can hold in a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The apprentice (`codeApprenant`).
    Apprentice,
    /// The school tutor (`codePersonnel`).
    SchoolTutor,
    /// The company tutor (`codeMaitreApprentissage`).
    CompanyTutor,
}

impl Role {
    /// Every role, in wire order.
    pub const ALL: [Role; 3] = [Role::Apprentice, Role::SchoolTutor, Role::CompanyTutor];

    /// The fields (code, first name, last name, email) that describe the user in this role.
    pub const fn fields(self) -> [Field; 4] {
        match self {
            Role::Apprentice => [
                Field::CodeApprenant,
                Field::PrenomApprenant,
                Field::NomApprenant,
                Field::EmailApprenant,
            ],
            Role::SchoolTutor => [
                Field::CodePersonnel,
                Field::PrenomPersonnel,
                Field::NomPersonnel,
                Field::EmailPersonnel,
            ],
            Role::CompanyTutor => [
                Field::CodeMaitreApprentissage,
                Field::PrenomMaitreApprentissage,
                Field::NomMaitreApprentissage,
                Field::EmailMaitreApprentissage,
            ],
        }
    }

    /// The role's name as the documents say it (apprenant, personnel, maître d'apprentissage).
    pub const fn name(self) -> &'static str {
        match self {
            Role::Apprentice => "apprenant",
            Role::SchoolTutor => "personnel",
            Role::CompanyTutor => "maitreApprentissage",
        }
    }

    /// Parses [`Role::name`] back.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The code/name pairs of reference data: one code, one name (DESIGN 3.2, `reference_conflict`).
pub const REFERENCES: [(Field, Field); 6] = [
    (Field::CodePeriode, Field::NomPeriode),
    (Field::CodeFormation, Field::NomFormation),
    (Field::CodeSite, Field::NomSite),
    (Field::CodeAnnee, Field::NomAnnee),
    (Field::CodeGroupe, Field::NomGroupe),
    (Field::CodeMarque, Field::NomMarque),
];

/// What places a group: a `codeGroupe` sits in exactly one site, period, formation and year.
pub const GROUP_PLACEMENT: [Field; 4] = [
    Field::CodeSite,
    Field::CodePeriode,
    Field::CodeFormation,
    Field::CodeAnnee,
];

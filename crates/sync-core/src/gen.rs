//! Seeded generation of realistic test data: a school's contracts, and a later export of the
//! same school that differs by a given rate.
//!
//! The school has a few sites, two years, periods, formations, groups of about 25 apprentices
//! placed in one site/period/formation/year each, school tutors who follow about 40 apprentices
//! and company tutors who follow one to five. Every generated set is valid
//! ([`validate`](crate::validate) reports nothing), and the same options give the same sets.

use std::borrow::Cow;

use crate::contract::Contract;
use crate::diff::Summary;
use crate::field::{Field, FIELD_COUNT};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Number of contracts in the previous set.
    pub contracts: usize,
    /// The seed: same options, same sets.
    pub seed: u64,
    /// Share of the previous set touched in the current one, split evenly between added,
    /// updated and removed contracts (0.1: about 10%).
    pub change_rate: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            contracts: 1000,
            seed: 42,
            change_rate: 0.1,
        }
    }
}

/// A generated pair of exports and what their diff is expected to be.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The previous export.
    pub previous: Vec<Contract<'static>>,
    /// The current export: the previous one with contracts removed, updated and added.
    pub current: Vec<Contract<'static>>,
    /// The counts that `diff(previous, current)` gives.
    pub expected: Summary,
}

/// Generates a previous and a current export.
///
/// ```
/// let g = sync_core::gen::generate(&sync_core::gen::Options { contracts: 200, ..Default::default() });
/// assert_eq!(sync_core::diff(&g.previous, &g.current).summary(), g.expected);
/// ```
pub fn generate(options: &Options) -> Generated {
    let school = School::new(options.contracts, options.seed);
    let mut rng = Rng::new(options.seed ^ 0x5eed_c4a2_9e37_79b9);
    let previous: Vec<Contract<'static>> = (0..options.contracts)
        .map(|i| school.contract(i, &mut rng))
        .collect();

    let rate = options.change_rate.clamp(0.0, 1.0);
    let per_kind = ((options.contracts as f64) * rate / 3.0).round() as usize;
    let per_kind = per_kind.min(options.contracts / 2);

    // Choose distinct contracts to remove and to update: a seeded partial shuffle.
    let mut order: Vec<usize> = (0..options.contracts).collect();
    for i in 0..(2 * per_kind).min(order.len()) {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
    let mut fate = vec![Fate::Keep; options.contracts];
    for &i in &order[..per_kind] {
        fate[i] = Fate::Remove;
    }
    for &i in &order[per_kind..2 * per_kind] {
        fate[i] = Fate::Update;
    }

    let mut current = Vec::with_capacity(options.contracts + per_kind);
    for (i, contract) in previous.iter().enumerate() {
        match fate[i] {
            Fate::Keep => current.push(contract.clone()),
            Fate::Remove => {}
            Fate::Update => current.push(school.update(i, contract, &mut rng)),
        }
    }
    for i in 0..per_kind {
        current.push(school.contract(options.contracts + i, &mut rng));
    }

    Generated {
        expected: Summary {
            same: options.contracts - 2 * per_kind,
            added: per_kind,
            updated: per_kind,
            removed: per_kind,
        },
        previous,
        current,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    Remove,
    Update,
}

const FIRST_NAMES: &[&str] = &[
    "Camille", "Léa", "Lucas", "Hugo", "Chloé", "Emma", "Louis", "Jules", "Inès", "Manon",
    "Nathan", "Sarah", "Théo", "Zoé", "Adam", "Jade", "Gabriel", "Lina", "Arthur", "Océane",
];
const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
];
const COMPANIES: &[&str] = &[
    "Boulangerie du Centre",
    "Garage Lemoine",
    "Atelier Numérique",
    "Hôtel des Arts",
    "Pharmacie Centrale",
    "Menuiserie Roux",
    "Cabinet Comptable Azur",
    "Transports Rapides",
    "Librairie du Port",
    "Studio Graphique Nord",
    "Clinique Vétérinaire",
    "Électricité Moderne",
];
const FORMATIONS: &[&str] = &[
    "BTS Commerce International",
    "BTS SIO option SLAM",
    "Bachelor Marketing Digital",
    "CAP Boulanger",
    "BP Coiffure",
    "Licence Pro Logistique",
    "Titre Pro Développeur Web",
    "BTS Comptabilité Gestion",
    "Master Management",
    "CAP Cuisine",
    "BTS Hôtellerie",
    "Bachelor Ressources Humaines",
];
const SITES: &[&str] = &[
    "Lyon Part-Dieu",
    "Paris Bercy",
    "Marseille Joliette",
    "Lille Europe",
    "Nantes Île",
    "Bordeaux Lac",
    "Toulouse Compans",
    "Rennes Cesson",
];
const MISSIONS: &[&str] = &[
    "Assistant commercial",
    "Développeur d'applications",
    "Chargé de communication",
    "Technicien de maintenance",
    "Assistant comptable",
];

/// The fixed parts of a generated school: sizes derived from the number of contracts.
struct School {
    seed: u64,
    groups: usize,
    sites: usize,
    formations: usize,
    school_tutors: usize,
    company_tutors: usize,
}

impl School {
    fn new(contracts: usize, seed: u64) -> Self {
        let contracts = contracts.max(1);
        School {
            seed,
            groups: contracts.div_ceil(25),
            sites: (contracts / 5000).clamp(1, SITES.len()),
            formations: (contracts / 500).clamp(1, 400),
            school_tutors: contracts.div_ceil(40),
            company_tutors: contracts.div_ceil(3),
        }
    }

    /// Contract number `n`: apprentice `n`, in group `n / 25`.
    fn contract(&self, n: usize, rng: &mut Rng) -> Contract<'static> {
        let group = (n / 25) % self.groups;
        let g = self.placement(group);
        let year = g.year;
        let start_day = 1 + rng.below(28);
        let duration = 1 + rng.below(2);
        let mut values: [Option<String>; FIELD_COUNT] = Default::default();
        let mut set = |f: Field, v: String| values[f.index()] = Some(v);
        set(Field::CodeContrat, format!("CT{:08}", n));
        set(Field::DateDebut, format!("{start_day:02}/09/{year}"));
        set(
            Field::DateFin,
            format!("{:02}/08/{}", start_day, year + 1 + duration),
        );
        set(
            Field::NomEntreprise,
            self.company_name(rng.below(COMPANIES.len() * 50)),
        );
        set(Field::CodeGroupe, format!("GRP{group:05}"));
        set(
            Field::NomGroupe,
            format!("Groupe {} {}", g.formation_name, group),
        );
        set(Field::CodeSite, format!("SITE{:02}", g.site));
        set(Field::NomSite, SITES[g.site].to_owned());
        set(Field::CodePeriode, format!("P{year}-{}", g.period));
        set(
            Field::NomPeriode,
            format!("Période {} {year}-{}", g.period + 1, year + 1),
        );
        set(Field::CodeAnnee, format!("A{year}"));
        set(Field::NomAnnee, format!("Année {year}-{}", year + 1));
        set(Field::CodeFormation, format!("F{:04}", g.formation));
        set(Field::NomFormation, g.formation_name.clone());
        if n % 4 == 0 {
            set(Field::CodeMarque, format!("M{}", g.site % 3));
            set(Field::NomMarque, format!("Marque {}", g.site % 3));
        }
        let (first, last) = self.person(self.seed ^ n as u64);
        set(Field::CodeApprenant, format!("APP{n:08}"));
        set(Field::PrenomApprenant, first.to_owned());
        set(Field::NomApprenant, last.to_owned());
        set(
            Field::EmailApprenant,
            email(first, last, "APP", n, "cfa.example"),
        );
        let tutor = (group * 7 + rng.below(3)) % self.school_tutors;
        let (first, last) = self.person(self.seed.rotate_left(17) ^ tutor as u64);
        set(Field::CodePersonnel, format!("PER{tutor:06}"));
        set(Field::PrenomPersonnel, first.to_owned());
        set(Field::NomPersonnel, last.to_owned());
        set(
            Field::EmailPersonnel,
            email(first, last, "PER", tutor, "ecole.example"),
        );
        let master = self.master_of(n, rng);
        let (first, last) = self.person(self.seed.rotate_left(33) ^ master as u64);
        set(Field::CodeMaitreApprentissage, format!("MA{master:07}"));
        set(Field::PrenomMaitreApprentissage, first.to_owned());
        set(Field::NomMaitreApprentissage, last.to_owned());
        set(
            Field::EmailMaitreApprentissage,
            email(first, last, "MA", master, "entreprise.example"),
        );
        let mission = MISSIONS[rng.below(MISSIONS.len())];
        set(Field::MissionTitle, mission.to_owned());
        // A quarter of the exports describe the mission; a contract is then about 930 bytes
        // of JSON, the size of the exports DESIGN 7's budgets are set on.
        if n % 4 == 1 {
            set(
                Field::MissionDetails,
                format!("{mission}: suivi des dossiers et participation aux projets de l'équipe."),
            );
        }
        set(Field::MonthStartGroup, "09".to_owned());
        set(
            Field::Rncp,
            format!("RNCP{}", 30000 + g.formation * 7 % 9000),
        );
        Contract::from_values(&values)
    }

    /// A changed version of `contract`, still valid and consistent with the rest of the set.
    fn update(&self, n: usize, contract: &Contract<'static>, rng: &mut Rng) -> Contract<'static> {
        let mut c = contract.clone();
        let mut set = |f: Field, v: String| c.set(f, Some(Cow::Owned(v)));
        match rng.below(4) {
            0 => set(
                Field::NomEntreprise,
                self.company_name(COMPANIES.len() * 50 + n),
            ),
            1 => {
                let year = self.placement((n / 25) % self.groups).year;
                set(
                    Field::DateFin,
                    format!("{:02}/12/{}", 1 + rng.below(28), year + 3),
                );
            }
            2 if self.company_tutors > 2 => {
                // master_of(n) is n / 3 or n / 3 + 1: this one is always another tutor.
                let master = (n / 3 + 2) % self.company_tutors;
                let (first, last) = self.person(self.seed.rotate_left(33) ^ master as u64);
                set(Field::CodeMaitreApprentissage, format!("MA{master:07}"));
                set(Field::PrenomMaitreApprentissage, first.to_owned());
                set(Field::NomMaitreApprentissage, last.to_owned());
                set(
                    Field::EmailMaitreApprentissage,
                    email(first, last, "MA", master, "entreprise.example"),
                );
            }
            _ => set(
                Field::MissionTitle,
                format!("{} (avenant)", MISSIONS[rng.below(MISSIONS.len())]),
            ),
        }
        c
    }

    fn master_of(&self, n: usize, rng: &mut Rng) -> usize {
        (n / 3 + rng.below(2)) % self.company_tutors
    }

    fn company_name(&self, k: usize) -> String {
        format!(
            "{} {}",
            COMPANIES[k % COMPANIES.len()],
            k / COMPANIES.len() + 1
        )
    }

    fn person(&self, key: u64) -> (&'static str, &'static str) {
        let mut rng = Rng::new(key);
        (
            FIRST_NAMES[rng.below(FIRST_NAMES.len())],
            LAST_NAMES[rng.below(LAST_NAMES.len())],
        )
    }

    fn placement(&self, group: usize) -> Placement {
        let mut rng = Rng::new(self.seed ^ (group as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let formation = rng.below(self.formations);
        Placement {
            site: rng.below(self.sites),
            period: rng.below(3),
            year: 2025 + rng.below(2),
            formation,
            formation_name: format!(
                "{} {}",
                FORMATIONS[formation % FORMATIONS.len()],
                formation / FORMATIONS.len() + 1
            ),
        }
    }
}

struct Placement {
    site: usize,
    period: usize,
    year: usize,
    formation: usize,
    formation_name: String,
}

fn email(first: &str, last: &str, prefix: &str, n: usize, domain: &str) -> String {
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'é' | 'è' | 'ê' => 'e',
                'ï' | 'î' => 'i',
                'ô' => 'o',
                'ç' => 'c',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    format!(
        "{}.{}.{}{n}@{domain}",
        ascii(first),
        ascii(last),
        prefix.to_ascii_lowercase()
    )
}

/// splitmix64: small, fast and the same on every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sets_are_valid_and_match_their_counts() {
        for contracts in [0, 1, 7, 100, 3000] {
            let g = generate(&Options {
                contracts,
                seed: 7,
                change_rate: 0.3,
            });
            for set in [&g.previous, &g.current] {
                let payload = crate::Payload::from_contracts(set.clone());
                let report = crate::validate(&payload);
                assert!(
                    report.is_valid(),
                    "{contracts}: {:?}",
                    report.problems.first()
                );
                assert_eq!(report.warnings().count(), 0);
            }
            assert_eq!(crate::diff(&g.previous, &g.current).summary(), g.expected);
        }
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let options = Options {
            contracts: 500,
            seed: 3,
            change_rate: 0.1,
        };
        let (a, b) = (generate(&options), generate(&options));
        assert_eq!(a.previous, b.previous);
        assert_eq!(a.current, b.current);
        let c = generate(&Options { seed: 4, ..options });
        assert_ne!(a.previous, c.previous);
    }
}

//! The bank simulator: the banks of the example group send, each morning,
//! the statements of the day before, generated from what the ledger posted
//! (`cashpool_recon::generate`), plus their own charges and, once, a
//! statement numbered one too far; the treasury imports them as `cashpool
//! recon import` does, reconciles, and adopts the charges.

use std::path::Path;

use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::Ledger;
use cashpool_recon::generate::StatementGenerator;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{SimError, SplitMix64};

/// The banks' side of the demo, over all mornings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankDays {
    /// Statement files written (under `<store>/statements/`).
    pub files: usize,
    /// Statements in those files.
    pub statements: usize,
    /// Statements sent as MT940.
    pub mt940: usize,
    /// Statements sent as camt.053.
    pub camt053: usize,
    /// Bank charges the banks booked.
    pub charges: usize,
    /// Bank charges the treasury adopted.
    pub adopted: usize,
    /// The deliberate break: (account, statement id) whose sequence number skips one.
    pub gap: Option<(String, String)>,
}

/// Which banks send MT940 and which camt.053: the Chinese banks and HSBC send
/// MT940, DBS, Deutsche Bank and Mizuho camt.053.
pub fn bank_format(account: &str) -> cashpool_ledger::bank::StatementFormat {
    use cashpool_ledger::bank::StatementFormat;
    match account {
        "SG-OPS" | "DE-OPS" | "JP-OPS" => StatementFormat::Camt053,
        _ => StatementFormat::Mt940,
    }
}

/// The banks of the example group, from one morning to the next: the
/// statement generator (fed with the journal as it grows) and what was sent.
#[derive(Debug, Default)]
pub struct BankSimulator {
    generator: StatementGenerator,
    /// The next journal entry the generator has not seen.
    next_seq: u64,
    tally: BankDays,
}

impl BankSimulator {
    /// Banks that have sent nothing yet.
    pub fn new() -> BankSimulator {
        BankSimulator { generator: StatementGenerator::new(), next_seq: 1, tally: BankDays::default() }
    }

    /// What the banks sent and the treasury adopted so far.
    pub fn tally(&self) -> &BankDays {
        &self.tally
    }

    /// Ends the simulation, returning what was sent and adopted.
    pub fn into_tally(self) -> BankDays {
        self.tally
    }

    /// The morning after `date`: each bank sends its statements of `date` (from
    /// what the ledger posted, plus the bank's own charges, and when `gap` one
    /// statement numbered one too far) as files under `<dir>/statements/<date>/`,
    /// the treasury imports them, reconciles, and adopts the bank charges.
    /// Returns the reconciliation after the adoption.
    pub fn morning(
        &mut self,
        ledger: &Ledger,
        rng: &mut SplitMix64,
        dir: &Path,
        date: NaiveDate,
        gap: bool,
        at: Timestamp,
    ) -> Result<cashpool_recon::Report, SimError> {
        let generator = &mut self.generator;
        let next_seq = &mut self.next_seq;
        let bank = &mut self.tally;
        use cashpool_ledger::bank::{BankLine, StatementFormat};
        for item in ledger.entries(*next_seq) {
            let (entry, _) = item?;
            *next_seq = entry.seq + 1;
            generator.push(&entry);
        }
        let mut statements = generator.statements_for(date, bank_format);
        // Each bank books a charge on about one statement in six.
        for statement in &mut statements {
            if !rng.chance(17) {
                continue;
            }
            let Some(currency) = Currency::from_code(&statement.currency) else { continue };
            let minor = 10i64.pow(currency.minor_units());
            let fee = Decimal::new(-(5 + i64::try_from(rng.below(60)).unwrap_or(0)) * minor, currency.minor_units());
            // A bank does not charge an account into overdraft (nor may the ledger).
            if statement.closing.as_ref().is_none_or(|c| c.amount + fee < Decimal::ZERO) {
                continue;
            }
            let camt = statement.format == StatementFormat::Camt053;
            statement.lines.push(BankLine {
                source_line: 0,
                booking_date: Some(date),
                value_date: Some(date),
                amount: fee,
                currency: statement.currency.clone(),
                reversal: false,
                end_to_end_id: None,
                uetr: None,
                owner_reference: None,
                bank_reference: Some(format!("FEE{}{:03}", date.format("%y%m%d"), bank.charges + 1)),
                type_code: if camt { "ACMT/MDOP/CHRG".into() } else { "NCHG".into() },
                narrative: "payment and account maintenance charges".into(),
            });
            if let Some(closing) = statement.closing.as_mut() {
                closing.amount += fee;
            }
            bank.charges += 1;
        }
        if gap {
            if let Some(statement) = statements.first_mut() {
                let skipped = statement.sequence_number().map_or(0, |(n, _)| n) + 1;
                statement.sequence = Some(skipped.to_string());
                bank.gap = Some((statement.account_id.clone(), statement.statement_id.clone()));
                generator.skip_number(&statement.account_id, &statement.currency);
            }
        }
        let folder = dir.join("statements").join(date.to_string());
        std::fs::create_dir_all(&folder)
            .map_err(|err| SimError::Environment(format!("{}: {err}", folder.display())))?;
        let mut files = Vec::new();
        for statement in &statements {
            let (name, text) = match statement.format {
                StatementFormat::Camt053 => {
                    bank.camt053 += 1;
                    (
                        format!("{}-{}.xml", statement.account_id, statement.currency),
                        cashpool_recon::camt::write_camt053(std::slice::from_ref(statement), date),
                    )
                }
                _ => {
                    bank.mt940 += 1;
                    (
                        format!("{}-{}.sta", statement.account_id, statement.currency),
                        cashpool_recon::mt940::write(std::slice::from_ref(statement)),
                    )
                }
            };
            let path = folder.join(&name);
            std::fs::write(&path, text).map_err(|err| SimError::Environment(format!("{}: {err}", path.display())))?;
            files.push(path);
        }
        // The treasury's morning: read the files as `cashpool recon import` does.
        let mut parsed = Vec::new();
        for path in &files {
            let bytes =
                std::fs::read(path).map_err(|err| SimError::Environment(format!("{}: {err}", path.display())))?;
            let read = cashpool_recon::parse(&bytes).ok_or_else(|| {
                SimError::Integrity(format!("{}: the demo's own statement is not recognised", path.display()))
            })?;
            if let Some(d) = read.diagnostics.first() {
                return Err(SimError::Integrity(format!(
                    "{}:{}: the demo's own statement does not read back: {}: {}",
                    path.display(),
                    d.line,
                    d.field,
                    d.message
                )));
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            parsed.extend(read.statements.into_iter().map(|st| (name.clone(), st)));
        }
        bank.files += files.len();
        bank.statements += parsed.len();
        ledger.import_statements(parsed, at).map_err(crate::refused_as_bug("the demo's statements were refused: "))?;
        let report = crate::reconcile(ledger, cashpool_recon::ReconOptions::default())?;
        let charges: Vec<TransactionRequest> = report
            .exceptions
            .iter()
            .filter(|ex| ex.reason == "bank_initiated")
            .filter_map(|ex| ex.proposed.clone())
            .filter(|p| p.purpose == Purpose::Fee)
            .collect();
        if charges.is_empty() {
            return Ok(report);
        }
        let outcome = ledger.adopt(&charges, "demo", at)?;
        if let Some(rejected) = outcome.rejected.first() {
            return Err(SimError::Integrity(format!("adopting {} was refused: {}", rejected.id, rejected.rejection)));
        }
        bank.adopted += charges.len();
        crate::reconcile(ledger, cashpool_recon::ReconOptions::default())
    }
}

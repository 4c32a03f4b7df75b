// Package rebuild re-derives what trackwatch stores from the stored events when the
// rules that derived it change: the carrier wordings seen and their classification
// (Phrases, Renormalise, after a phrase table change), the monthly summaries the
// detectors read (Summaries, after a change made in place or a migration that cannot
// fill them), and the verdicts on the stored tracking numbers (Numbers, when the
// checker's version changes). Ingest derives them as events arrive; this package does
// it again over history.
package rebuild

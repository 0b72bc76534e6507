//! The fuzz pass in CI: a few thousand mutated inputs per decoder (the full pass, a million per
//! decoder, is `elite bench fuzz`). No panic; every input is refused with a message, or each of
//! its records lands or is quarantined with a location and a reason.

use std::path::PathBuf;

use elite_collectors::fuzz::{DECODERS, fuzz, seeds};

#[test]
fn every_decoder_survives_mutated_inputs_and_accounts_for_every_record() {
    let fixtures = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("fixtures");
    for (i, d) in DECODERS.iter().enumerate() {
        let s = seeds(d, &fixtures).unwrap();
        let r = fuzz(d, &s, 3000, 0x5eed + i as u64);
        assert_eq!(r.inputs, 3000, "{d}");
        assert_eq!((r.panics, r.violations), (0, 0), "{d}: {:?}", r.examples);
        // The mutations reach both outcomes: whole inputs refused (the feed decoder never refuses:
        // a frame it cannot read is itself a quarantined record), and records decoded.
        if *d != "upstox-feed" {
            assert!(r.refused > 0, "{d}: nothing refused: {r:?}");
        }
        assert!(r.records_landed > 0, "{d}: nothing landed: {r:?}");
        if *d != "upstox-orders" {
            assert!(r.records_quarantined > 0, "{d}: nothing quarantined: {r:?}");
        }
    }
}

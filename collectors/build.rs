//! Generates the Upstox V3 market-data feed types from the descriptor set shipped in
//! `proto/upstox/` (no `protoc` needed), plus their proto3-JSON serde impls (pbjson), which
//! match `google.protobuf.json_format.MessageToDict` and let tests compare against the SDK.

use std::error::Error;
use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn Error>> {
    let desc = PathBuf::from("proto/upstox/MarketDataFeedV3.desc");
    println!("cargo:rerun-if-changed={}", desc.display());
    let mut fds = prost_types::FileDescriptorSet::decode(std::fs::read(&desc)?.as_slice())?;
    // The reconstructed descriptor has no json_name; fill it as protoc does so the JSON field
    // names match the SDK's (`marketFF`, not pbjson's own guess `marketFf`).
    for file in &mut fds.file {
        for msg in &mut file.message_type {
            set_json_names(msg);
        }
    }
    let bytes = fds.encode_to_vec();
    prost_build::Config::new()
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds.clone())?;
    pbjson_build::Builder::new()
        .register_descriptors(&bytes)?
        .build(&[".com.upstox"])?;
    Ok(())
}

/// protoc's `ToJsonName`: drop underscores, upper-casing the letter after each.
fn json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn set_json_names(msg: &mut prost_types::DescriptorProto) {
    for f in &mut msg.field {
        if f.json_name.is_none() {
            f.json_name = Some(json_name(f.name()));
        }
    }
    for nested in &mut msg.nested_type {
        set_json_names(nested);
    }
}

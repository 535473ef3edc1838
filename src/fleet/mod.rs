//! Fleet mode (docs/FLEET.md): many devices through one MQTT broker. The MQTT client, topics,
//! the carrier that stands in for a device's WebSocket, and the Fleet page's roster are pure
//! logic; `broker` keeps the broker's address and `page` draws the Fleet page.

pub mod broker;
pub mod carrier;
pub mod mqtt;
pub mod page;
pub mod roster;
pub mod topics;

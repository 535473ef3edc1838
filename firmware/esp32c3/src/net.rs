//! WiFi as config.rs says (an access point with its own DHCP server, or a station on your
//! network) and the embassy-net stack the web server listens on.

use crate::config::{self, Wifi};
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use embassy_executor::Spawner;
use embassy_net::{Runner, Stack, StackResources, StaticConfigV4};
use embassy_time::Timer;
use esp_println::println;
use esp_radio::wifi::ap::AccessPointConfig;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{AuthenticationMethodConfig, Config, ControllerConfig, Interface, WifiController};
use static_cell::StaticCell;

/// The access point's own address; phones get theirs from its DHCP server.
pub const AP_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 168, 4, 1);
/// Sockets: one per web task, the DHCP server or client, and one spare.
const SOCKETS: usize = crate::web::TASKS + 2;

/// Starts WiFi and the network stack; returns once the stack has an address.
pub async fn start(spawner: Spawner, wifi: esp_hal::peripherals::WIFI<'static>, seed: u64) -> Stack<'static> {
    let (wifi_config, device, net_config) = match config::WIFI {
        Wifi::AccessPoint { ssid, password, channel } => {
            let ap = AccessPointConfig::default()
                .with_ssid(ssid.try_into().expect("config.rs: SSID of 32 bytes at most"))
                .with_channel(channel)
                .with_authentication(AuthenticationMethodConfig::Wpa2Personal(
                    password.try_into().expect("config.rs: password of 8 to 63 characters"),
                ));
            let net = embassy_net::Config::ipv4_static(StaticConfigV4 {
                address: embassy_net::Ipv4Cidr::new(AP_ADDRESS, 24),
                gateway: Some(AP_ADDRESS),
                dns_servers: Default::default(),
            });
            (Config::AccessPoint(ap), Interface::access_point(), net)
        }
        Wifi::Station { ssid, password } => {
            let sta = StationConfig::default()
                .with_ssid(ssid.try_into().expect("config.rs: SSID of 32 bytes at most"))
                .with_authentication(AuthenticationMethodConfig::Wpa2Personal(
                    password.try_into().expect("config.rs: password of 8 to 63 characters"),
                ));
            (Config::Station(sta), Interface::station(), embassy_net::Config::dhcpv4(Default::default()))
        }
    };
    let controller = WifiController::new(wifi, ControllerConfig::default().with_initial_config(wifi_config))
        .expect("WiFi did not start");
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(device, net_config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).expect("one net task"));
    match config::WIFI {
        Wifi::AccessPoint { ssid, .. } => {
            spawner.spawn(access_point(controller).expect("one WiFi task"));
            spawner.spawn(dhcp_server(stack).expect("one DHCP task"));
            println!("wsdeck: join WiFi \"{ssid}\" and open http://{AP_ADDRESS}/");
        }
        Wifi::Station { ssid, .. } => {
            spawner.spawn(station(controller).expect("one WiFi task"));
            println!("wsdeck: joining WiFi \"{ssid}\"");
        }
    }
    stack.wait_config_up().await;
    if let Some(c) = stack.config_v4() {
        println!("wsdeck: the app is at http://{}/", c.address.address());
    }
    stack
}

/// The WiFi signal in dBm: of the network joined (station), or of the weakest phone joined to
/// the car's access point. `None` when there is nothing to measure.
pub fn rssi() -> Option<i32> {
    use esp_wifi_sys_esp32c3::include as sys;
    match config::WIFI {
        Wifi::Station { .. } => {
            let mut rssi = 0;
            // SAFETY: WiFi is started before telemetry is sampled; the call only writes `rssi`.
            let err = unsafe { sys::esp_wifi_sta_get_rssi(&mut rssi) };
            (err == 0).then_some(rssi)
        }
        Wifi::AccessPoint { .. } => {
            // SAFETY: a plain C struct of integers, filled in by the call.
            let mut list: sys::wifi_sta_list_t = unsafe { core::mem::zeroed() };
            // SAFETY: WiFi is started; the call writes at most the list's capacity.
            let err = unsafe { sys::esp_wifi_ap_get_sta_list(&mut list) };
            let n = usize::try_from(list.num).unwrap_or(0).min(list.sta.len());
            if err != 0 {
                return None;
            }
            list.sta[..n].iter().map(|s| i32::from(s.rssi)).min()
        }
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface>) -> ! {
    runner.run().await
}

/// Keeps the access point's controller alive and logs phones joining and leaving.
#[embassy_executor::task]
async fn access_point(controller: WifiController<'static>) -> ! {
    use esp_radio::wifi::ap::EventInfo;
    loop {
        match controller.wait_for_access_point_connected_event_async().await {
            Ok(EventInfo::Connected(info)) => println!("wsdeck: a phone joined ({:02x?})", info.mac),
            Ok(EventInfo::Disconnected(info)) => println!("wsdeck: a phone left ({:02x?})", info.mac),
            Err(e) => {
                println!("wsdeck: WiFi event error {e:?}");
                Timer::after_secs(1).await;
            }
        }
    }
}

/// Joins the network, and joins it again whenever it is lost.
#[embassy_executor::task]
async fn station(mut controller: WifiController<'static>) -> ! {
    loop {
        match controller.connect_async().await {
            Ok(_) => {
                println!("wsdeck: WiFi joined");
                let _ = controller.wait_for_disconnect_async().await;
                println!("wsdeck: WiFi lost; joining again");
            }
            Err(e) => {
                println!("wsdeck: could not join WiFi ({e:?}); trying again in 5 s");
                Timer::after_secs(5).await;
            }
        }
    }
}

/// Hands phones on the access point an address (192.168.4.x).
#[embassy_executor::task]
async fn dhcp_server(stack: Stack<'static>) -> ! {
    use edge_dhcp::io::{self, DEFAULT_SERVER_PORT};
    use edge_dhcp::server::{Server, ServerOptions};
    use edge_nal::UdpBind;
    use edge_nal_embassy::{Udp, UdpBuffers};

    let mut buf = [0u8; 1500];
    let mut gateways = [AP_ADDRESS];
    let buffers = UdpBuffers::<1, 1024, 1024, 4>::new();
    let udp = Udp::new(stack, &buffers);
    let any = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, DEFAULT_SERVER_PORT));
    let mut socket = loop {
        match udp.bind(any).await {
            Ok(s) => break s,
            Err(e) => {
                println!("wsdeck: DHCP server could not bind ({e:?})");
                Timer::after_secs(1).await;
            }
        }
    };
    loop {
        let mut server = Server::<_, 16>::new_with_et(AP_ADDRESS);
        let options = ServerOptions::new(AP_ADDRESS, Some(&mut gateways));
        if let Err(e) = io::server::run(&mut server, &options, &mut socket, &mut buf).await {
            println!("wsdeck: DHCP server error {e:?}");
        }
        Timer::after_millis(500).await;
    }
}

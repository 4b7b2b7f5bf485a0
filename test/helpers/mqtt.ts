/** The MQTT broker the bridge's specs use: the local Mosquitto unless TEST_MQTT_URL names another. */
export const TEST_BROKER = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

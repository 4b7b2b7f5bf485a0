/** The MQTT broker the bridge's specs use, and cleaning up the persistent sessions they leave there. */
import mqtt from 'mqtt';

export const TEST_BROKER = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Ends the broker's persistent session of `clientId` (the bridge keeps one for a week): a clean start that expires at disconnect. */
export async function dropSession(clientId: string, url = TEST_BROKER): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
  await client.endAsync();
}

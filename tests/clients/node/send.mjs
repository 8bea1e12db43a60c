// Sends events with the official Segment Node library to the host in argv, then exits:
// 0 when every event was delivered, 1 with the library's error otherwise.
import { Analytics } from '@segment/analytics-node'

const [host, writeKey, sessionId] = process.argv.slice(2)
const analytics = new Analytics({ writeKey, host, flushAt: 4, maxRetries: 1 })
const failures = []
analytics.on('error', (err) => failures.push(String(err?.reason ?? err?.message ?? err)))

const base = { anonymousId: 'node-visitor', context: { sessionId } }
analytics.page({ ...base, name: 'Checkout', properties: { path: '/checkout/pay' } })
for (let i = 0; i < 4; i++) {
  analytics.track({ ...base, event: 'click', properties: { selector: '#pay', x: 3, y: 3 } })
}
analytics.identify({ ...base, userId: 'node-user', traits: { plan: 'pro' } })
await analytics.closeAndFlush({ timeout: 20000 })
if (failures.length) {
  console.error(failures.join('\n'))
  process.exit(1)
}

#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

The targets read a selector byte before their argument (fuzz_capi: the entry
point; fuzz_webhook: provider and mode; fuzz_phone: the region), which makes
seeds awkward to write by hand: they are written here, as the inputs a host
would send, and committed. Run it again after changing a target's selector
table (python3 fuzz/make_corpus.py); files it writes are replaced, others are
left alone. The webhook bodies come from tests/data/webhooks/.
"""
import json
import pathlib

here = pathlib.Path(__file__).resolve().parent
root = here / 'corpus'
data = here.parent / 'tests' / 'data' / 'webhooks'

def write(target, name, payload):
    d = root / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(payload, str):
        payload = payload.encode()
    (d / name).write_bytes(payload)

def compact(path, **repl):
    text = (data / path).read_text()
    for k, v in repl.items():
        text = text.replace(k, v)
    if path.endswith('.json'):
        return json.dumps(json.loads(text), separators=(',', ':'), ensure_ascii=False)
    return text.strip()

# ---- fuzz_capi: selector byte (the index in kEntries) + argument ----------------
def capi(sel, name, text):
    write('fuzz_capi', f'{sel:02d}-{name}', bytes([sel]) + text.encode())

capi(0, 'lead_create_min', '{"phone":"(212) 736-5000"}')
capi(0, 'lead_create_full', json.dumps({"external_id":"crm-77","phone":"+1 646 555 0123","first_name":"Zoë","last_name":"O'Brien","email":"zoe@example.com","source":"facebook_ads","interest":"personal training","timeline":"this week","notes":"prefers mornings","tags":[" VIP ","Morning"],"consent":{"given":True,"at":"2026-10-01T10:00:00Z","method":"web_form","source":"https://gym.example/join"},"status":"contacted","qualification":"hot","timezone":"America/Chicago","custom_fields":{"goal":"strength"},"created_at":"2026-10-01T09:59:00-04:00","actor":"ana"}, ensure_ascii=False))
capi(0, 'lead_create_merge', '{"phone":"212.736.5000","tags":["spanish"],"do_not_call":true}')
capi(1, 'lead_create_gb', '{"phone":"020 7946 0958","first_name":"Ola"}')
capi(1, 'lead_create_gb_intl', '{"phone":"0044 20 79460958"}')
capi(2, 'lead_update', '{"first_name":"Ana María","email":"ana.m@example.com","qualification":"neutral","custom_fields":{"shift":"night"},"actor":"ops"}')
capi(2, 'lead_update_phone', '{"phone":"+1 305 555 0142"}')
capi(3, 'lead_list', '{"statuses":["new","contacted"],"qualifications":["hot"],"tags":["vip"],"source":"web_form","created_from":"2026-01-01T00:00:00Z","created_to":"2027-01-01T00:00:00Z","search":"ana","page":1,"page_size":10}')
capi(3, 'lead_list_empty', '{}')
capi(4, 'process_event', json.dumps({"event_id":"ev-1","call_id":"c-1","gym_id":"gym-fuzz","lead_external_id":"ext-1","to":"+12127365000","from":"+12125550100","direction":"outbound","started_at":"2026-11-02T14:55:00Z","ended_at":"2026-11-02T14:58:00Z","status":"completed","answered_by":"human","duration_s":180,"outcome":"callback_requested","callback_at":"2026-11-03T15:00:00Z","sentiment":"positive","cost_usd":0.42,"recording_url":"https://rec.example/1.mp3","recording_duration_s":180,"recording_channels":2,"recording_consent":True,"summary":"wants a call back","transcript":"Agent: hi","campaign_id":"camp-fall","provider":"retell","end_reason":"user_hangup"}))
capi(4, 'process_event_ringing', '{"event_id":"ev-2","call_id":"c-2","gym_id":"gym-fuzz","lead_external_id":"ext-2","to":"+13055550142","started_at":"2026-11-02T15:00:00Z","status":"ringing"}')
capi(4, 'process_event_duration_huge', '{"event_id":"ev-3","call_id":"c-3","gym_id":"gym-fuzz","lead_external_id":"ext-1","started_at":"2026-11-02T15:00:00Z","status":"completed","duration_s":5.55556e+25}')
capi(5, 'config_min', '{}')
capi(5, 'config_full', json.dumps({"storage":"sqlite:gym.db","worker_threads":4,"defaults":{"call_hours":{"start":"09:00","end":"20:00"},"call_days":["mon","tue","wed"],"hot_threshold":70,"cold_threshold":40,"max_attempts":4,"retry_gap_minutes":240,"recording_retention_days":90},"gyms":{"gym-nyc-01":{"call_days":["sat"],"max_attempts":3}},"voice_providers":{"main":{"kind":"retell","api_key_env":"RETELL_API_KEY","webhook_secret_env":"RETELL_WEBHOOK_SECRET","timeout_ms":5000,"max_retries":2,"options":{"ca_file":"/etc/ssl/ca.pem"}},"sim":{"kind":"simulated","options":{"seed":3,"answer_rate":0.5,"time":"virtual"}}},"limits":{"max_request_bytes":2048,"max_json_depth":8,"max_page_size":100,"max_batch_size":500,"max_transcript_bytes":4096},"logging":{"level":"debug","format":"logfmt","sink":"none"},"metrics":{"enabled":False},"cache":{"gym_ttl_ms":0}}))
capi(5, 'config_errors', '{"worker_thread":0,"defaults":{"call_hours":{"start":"25:00"}},"voice_providers":{"x":{"kind":"retell","api_key":"sk"}}}')
capi(6, 'analytics_json', '{"gym_id":"gym-fuzz","from":"2026-10-01","to":"2026-11-30","timezone":"America/New_York"}')
capi(6, 'analytics_all', '{}')
capi(7, 'analytics_csv', '{"gym_id":"gym-fuzz","campaign_id":"camp-fall","from":"2026-11-01","to":"2026-11-02"}')
vapi_body = compact('vapi_end_of_call_report.json', **{'gym-a':'gym-fuzz','ext-vapi-1':'ext-1'})
vapi_status = compact('vapi_status_update.json', **{'gym-a':'gym-fuzz','ext-vapi-1':'ext-1'})
capi(8, 'webhook_vapi_report', json.dumps({"provider":"vapi","url":"https://hooks.example.com/vapi","headers":{"x-vapi-secret":"fuzz-secret"},"body":vapi_body}, ensure_ascii=False))
capi(8, 'webhook_vapi_status', json.dumps({"provider":"vapi","headers":[["X-Vapi-Secret","fuzz-secret"]],"body":vapi_status}, ensure_ascii=False))
capi(8, 'webhook_retell', json.dumps({"provider":"retell","url":"https://hooks.example.com/retell","headers":{"x-retell-signature":"v=1793631426000,d=00"},"body":compact('retell_call_started.json', **{'gym-a':'gym-fuzz','@LEAD_ID@':'@LEAD@'})}, ensure_ascii=False))
capi(8, 'webhook_twilio', json.dumps({"provider":"twilio","url":"https://hooks.example.com/twilio?gym_id=gym-fuzz&lead_id=@LEAD@","headers":{"X-Twilio-Signature":"AAAA"},"body":compact('twilio_status_ringing.form')}))
capi(9, 'webhook_options', '{"secret":"fuzz-secret","secrets":["old-secret"],"tolerance_s":300}')
capi(10, 'place_call', json.dumps({"from":"+12125550100","to":"+12127365000","assistant_id":"agent_42","dynamic_variables":{"first_name":"Ana","gym_name":"Iron Temple"},"metadata":{"gym_id":"gym-fuzz","lead_external_id":"ext-1","campaign_id":"camp-fall"}}))
capi(10, 'place_call_min', '{"from":"+12125550100","to":"+13055550142"}')
capi(11, 'add_tags_array', '["vip","Morning ","spanish"]')
capi(11, 'add_tags_object', '{"tags":["trial"],"actor":"ana"}')
capi(12, 'change_status', '{"to":"qualified","actor":"ana"}')
capi(12, 'change_status_back', '{"to":"new","actor":"ana","reason":"mistake","force":true}')
capi(13, 'calls_list', '{"lead_id":"","campaign_id":"camp-fall","status":"completed","outcome":"interested","direction":"outbound","started_from":"2026-11-01T00:00:00Z","started_to":"2026-12-01T00:00:00Z","page":1,"page_size":20}')
capi(13, 'calls_list_page_huge', '{"status":"completed","page":55555555555555555555555551,"page_size":20}')
capi(14, 'leads_next', '{"count":5,"qualification":"hot","exclude":["ld_nope"],"at":"2026-11-02T15:00:00Z"}')
capi(14, 'leads_next_min', '{"count":1}')
capi(15, 'after_call', '{"call_id":"call_1","started_at":"2026-11-02T14:55:00Z","ended_at":"2026-11-02T14:57:00Z","status":"completed","answered_by":"human","outcome":"interested","sentiment":"positive"}')
capi(15, 'after_call_callback', '{"call_id":"call_2","started_at":"2026-11-02T16:00:00Z","status":"completed","answered_by":"human","outcome":"callback_requested","callback_at":"2026-11-04T17:00:00Z"}')
capi(15, 'after_call_no_answer', '{"call_id":"call_3","started_at":"2026-11-02T17:00:00Z","status":"no_answer"}')
capi(16, 'route_outbound', '{"gym_id":"gym-fuzz","lead_id":"@LEAD@","campaign_id":"spring","at":"2026-11-02T15:00:00Z","assistants":{"gym_default":"agent_1","campaigns":{"spring":{"default":"agent_2","hot":"agent_3","neutral":"agent_4","cold":"agent_5"}}}}')
capi(17, 'gym_update', '{"id":"gym-fuzz","name":"Iron Temple","timezone":"America/New_York","region":"US","state":"NY","call_hours":{"start":"08:00","end":"21:00"},"call_days":["mon","tue","wed","thu","fri","sat"],"caller_ids":["+12125550100"]}')
capi(18, 'dnc_check', '(212) 736-5000')
capi(19, 'route_inbound', '07911 123456')
capi(19, 'route_inbound_known', '+44 20 7946 0958')

# ---- fuzz_import_csv: CSV text --------------------------------------------------
H = 'external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags\n'
def csv(name, text):
    write('fuzz_import_csv', name, text)
csv('contract', H + 'crm-1,gym-nyc,Ana,Diaz,(212) 736-5000,ana@example.com,web_form,2026-10-01T10:00:00Z,personal training,this week,yes,vip;morning\n'
                   'crm-2,gym-nyc,Bo,Lee,212-736-5001,,facebook_ads,2026-10-02T11:30:00-04:00,,asap,no,\n'
                   'crm-3,gym-ldn,Ola,Nowak,020 7946 0958,ola@example.co.uk,referral,2026-10-03T09:00:00+01:00,classes,,y,\n')
csv('duplicates', H + 'a,gym-nyc,Ana,,2127365000,,,2026-10-01T10:00:00Z,,,yes,a\n'
                     'b,gym-nyc,,Diaz,+1 212 736 5000,ana@example.com,,2026-09-01T10:00:00Z,,,no,B\n'
                     'c,gym-nyc,,,1-212-736-5000,,,,,,,\n')
csv('rejects', H + 'r1,gym-nyc,X,,not a phone,,,2026-10-01T10:00:00Z,,,,\n'
                  'r2,gym-mars,X,,2127365000,,,2026-10-01T10:00:00Z,,,,\n'
                  'r3,gym-nyc,X,,2127365002,,,31/10/2026,,,,\n'
                  'r4,gym-nyc,X,,2127365003,,,2026-10-01T10:00:00,,,,\n'
                  'r5,gym-nyc,too,few\n'
                  'r6,gym-nyc,"broken"quote,,2127365004,,,,,,,\n')
csv('quoted', H + '"q1","gym-nyc","Ana, ""the boss""","Line\nbreak","(212) 736-5005","a@b.c","web_form","2026-10-01T10:00:00Z","\'; DROP TABLE leads; --","{0} %s %n","true","a;b;c"\r\n'
                 'q2,gym-nyc,Zoë 💪,Ørsted,212.736.5006,,,,,,0,\r\n')
csv('bad_encoding', (H + 'e1,gym-nyc,').encode() + b'\xff\xfe' + b',X,2127365007,,,,,,,\n' + b'e2,gym-nyc,\xc0\xaf,,2127365008,,,,,,,\n')
csv('reordered', 'PHONE, Gym_ID ,tags,extra\n(212) 736-5009,gym-nyc,vip,ignored\n212 736 5010,gym-nyc,,\n')
csv('bom_crlf', '\ufeffgym_id,phone,consent\r\ngym-nyc,2127365011,n\r\n\r\ngym-ldn,+44 20 7946 0959,1\r\n')
csv('missing_columns', 'external_id,first_name\nx,Ana\n')
csv('empty_fields', 'gym_id,phone\n,\n gym-nyc , 212 736 5012 \n')
csv('unclosed_quote', H + 'u1,gym-nyc,"never closed,,2127365013,,,,,,,\nu2,gym-nyc,Ok,,2127365014,,,,,,,\n')
csv('too_long', H + 't1,gym-nyc,' + 'A'*210 + ',,2127365015,,,,,,,\n' + 't2,gym-nyc,,,2127365016,,,,,,,' + ';'.join('t%d' % i for i in range(101)) + '\n')
csv('gb_numbers', 'gym_id,phone,created_at\ngym-ldn,07700 900123,2026-10-01T10:00:00Z\ngym-ldn,+447700900124,2026-10-01T10:00:00+00:00\ngym-ldn,2127365000,\n')

# ---- fuzz_webhook: provider/mode byte + body ------------------------------------
def wh(provider, mode, name, body):
    sel = provider + 3 * mode
    if isinstance(body, str): body = body.encode()
    write('fuzz_webhook', name, bytes([sel]) + body)
R, V, T = 0, 1, 2
for f in ['retell_call_started.json','retell_call_ended.json','retell_call_analyzed.json','retell_dial_no_answer.json']:
    b = compact(f, **{'@LEAD_ID@':'ld_1'})
    wh(R, 0, 'retell-' + f.split('.')[0][7:], b)
wh(R, 1, 'retell-signed', compact('retell_call_ended.json', **{'@LEAD_ID@':'ld_1'}))
wh(R, 0, 'retell-transcript_updated', '{"event":"transcript_updated","call":{"call_id":"abc"}}')
for f in ['vapi_end_of_call_report.json','vapi_status_update.json']:
    wh(V, 0, 'vapi-' + f.split('.')[0][5:], compact(f))
wh(V, 1, 'vapi-signed', compact('vapi_status_update.json'))
# fuzz_webhook's first finding (tests/fuzz_regressions_test.cpp): a millisecond time past int64.
wh(V, 0, 'vapi-timestamp_overflow', '{"message":{"type":"end-of-call-report","call":{"id":"c1"},"timestamp":179363E450000}}')
wh(V, 0, 'vapi-speech_update', '{"message":{"type":"speech-update","status":"started","role":"assistant"}}')
for f in ['twilio_recording.form','twilio_status_completed.form','twilio_status_ringing.form']:
    wh(T, 0, 'twilio-' + f.split('.')[0][7:], compact(f))
wh(T, 1, 'twilio-signed', compact('twilio_status_completed.form'))
wh(T, 0, 'twilio-amd', 'CallSid=CA1&AnsweredBy=machine_start&AccountSid=AC1')
wh(T, 0, 'twilio-bad_escape', 'CallSid=CA1&CallStatus=busy%2&To=%ZZ')
wh(R, 2, 'retell-header', 'v=1793631426000,d=0123abcd\n' + compact('retell_call_started.json', **{'@LEAD_ID@':'ld_1'}))
wh(V, 2, 'vapi-header', 'fuzz-secret\n' + compact('vapi_status_update.json'))
wh(T, 2, 'twilio-header', 'c2lnbmF0dXJl\n' + compact('twilio_status_ringing.form'))

# ---- fuzz_phone: region byte + number ---------------------------------------------
US, GB, CA = 0, 1, 2
phones = [
 (US, '(212) 736-5000'), (US, '212-736-5000'), (US, '212.736.5000'), (US, '+1 212 736 5000'), (US, '1-212-736-5000'),
 (US, ' 212 736 5000 '), (US, '212-736-5000 x12'), (US, '001 212 736 5000'), (US, '(012) 736-5000'), (US, '+44 20 7946 0958'),
 (US, '1-800-FLOWERS'), (US, '+1 (212) 555'), (US, '212-555-0123'), (GB, '020 7946 0958'), (GB, '0044 20 79460958'),
 (GB, '+44 7700 900123'), (GB, '07700 900123'), (GB, '+1 212 736 5000'), (CA, '(416) 555-0123'), (CA, '+1 212 736 5000'),
 (US, '+12127365000'), (US, '\t212  736--5000\r\n'), (US, '((212)) 736 5000 -'), (US, '+1.212.736.5000'),
]
for i, (r, p) in enumerate(phones):
    write('fuzz_phone', f'{i:02d}', bytes([r]) + p.encode())

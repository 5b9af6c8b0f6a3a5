/**
 * GET /api/openapi.json: the API as an OpenAPI 3.1 document. Schemas are generated from the zod
 * types the server validates with (the task from core/config.ts, the API's own in api-schemas.ts).
 */
import { z } from 'zod';
import { taskSchema } from '../core/config.js';
import * as s from './api-schemas.js';

const schema = (t: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(t, { target: 'draft-2020-12', unrepresentable: 'any', io });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (name: string, description = 'OK') => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const errors = {
  '400': ok('Error', 'bad input'),
  '401': ok('Error', 'no API token, or a wrong one'),
  '404': ok('Error', 'unknown task'),
  '409': ok('Error', 'state conflict (e.g. the task is running)'),
  '502': ok('Error', 'a database is unreachable'),
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

function action(summary: string, response = 'TaskDetail') {
  return { post: { summary, parameters: idParam, responses: { '202': ok(response, 'accepted'), ...errors } } };
}

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'pgferry',
      version,
      description:
        'PostgreSQL → PostgreSQL migration tasks: create, check, run, follow, verify. Every request carries ' +
        '`Authorization: Bearer <token>` (the token pgferry serve prints at start); a request without it gets 401.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'liveness and readiness (the task store answers); open without the token',
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'the task store does not answer' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format); open without the token with --metrics-public',
          responses: { '200': { description: 'text/plain; version=0.0.4' } },
        },
      },
      '/api/health': { get: { summary: 'liveness and version', responses: { '200': { description: 'OK' } } } },
      '/api/connections/test': {
        post: {
          summary: 'test a connection',
          requestBody: body('ConnectionBody'),
          responses: { '200': ok('ConnectionTest'), ...errors },
        },
      },
      '/api/catalog': {
        post: {
          summary: 'schemas, tables and columns of a database',
          requestBody: body('ConnectionBody'),
          responses: { '200': ok('Catalog'), ...errors },
        },
      },
      '/api/tasks': {
        get: {
          summary: 'every task',
          responses: {
            '200': {
              description: 'OK',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { tasks: { type: 'array', items: ref('TaskSummary') } } },
                },
              },
            },
          },
        },
        post: {
          summary: 'create a task (passwords allowed: kept encrypted, never returned)',
          requestBody: body('Task'),
          responses: { '201': ok('TaskDetail', 'created'), ...errors },
        },
      },
      '/api/tasks/{id}': {
        get: { summary: 'a task in detail', parameters: idParam, responses: { '200': ok('TaskDetail'), ...errors } },
        put: {
          summary: 'replace a task (not while it runs)',
          parameters: idParam,
          requestBody: body('Task'),
          responses: { '200': ok('TaskDetail'), ...errors },
        },
        delete: {
          summary: 'delete a task and its state (not while it runs)',
          parameters: idParam,
          responses: { '200': { description: 'deleted' }, ...errors },
        },
      },
      '/api/tasks/{id}/precheck': {
        post: { summary: 'run the precheck', parameters: idParam, responses: { '200': ok('Precheck'), ...errors } },
        get: { summary: 'the last precheck', parameters: idParam, responses: { '200': ok('Precheck'), ...errors } },
      },
      '/api/tasks/{id}/start': action('start (or resume) the migration'),
      '/api/tasks/{id}/stop': action('stop; a stopped task is never resumed automatically'),
      '/api/tasks/{id}/pause': action('start no new copy unit'),
      '/api/tasks/{id}/resume': action('start copy units again'),
      '/api/tasks/{id}/verify': action('compare target and source'),
      '/api/tasks/{id}/cutover': {
        post: {
          summary:
            'incremental tasks: stop writes (readOnly: pgferry does), wait for the target, set sequences, compare by hash, drop slot and publication; body { readOnly?, timeoutSec? } or { undoReadOnly: true }',
          parameters: idParam,
          responses: {
            '200': { description: 'cut over: steps, writesStoppedAt, targetReadyAt, downtimeMs' },
            ...errors,
          },
        },
      },
      '/api/tasks/{id}/finish': action('remove the checkpoints from the target; cleanupSql removes the accounts'),
      '/api/tasks/{id}/limits': {
        patch: {
          summary: 'change rate limits and jobs live',
          parameters: idParam,
          requestBody: body('LimitsChange'),
          responses: { '200': ok('Limits'), ...errors },
        },
      },
      '/api/tasks/{id}/events': {
        get: {
          summary:
            'Server-Sent Events: id = seq, event = type, data = the event; replays after Last-Event-ID (header or ?lastEventId=)',
          parameters: [...idParam, { name: 'lastEventId', in: 'query', required: false, schema: { type: 'integer' } }],
          responses: { '200': { description: 'text/event-stream' }, '404': ok('Error', 'unknown task') },
        },
      },
      '/api/tasks/{id}/report': {
        get: {
          summary: 'report.json',
          parameters: idParam,
          responses: { '200': { description: 'the report' }, '404': ok('Error', 'no report yet') },
        },
      },
      '/api/tasks/{id}/report.md': {
        get: {
          summary: 'the report as markdown',
          parameters: idParam,
          responses: { '200': { description: 'text/markdown' }, '404': ok('Error', 'no report yet') },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Task: schema(taskSchema, 'input'),
        TaskSummary: schema(s.taskSummary),
        TaskDetail: schema(s.taskDetail),
        Precheck: schema(s.precheckResult),
        ConnectionBody: schema(s.connectionBody, 'input'),
        ConnectionTest: schema(s.connectionTestResult),
        Catalog: schema(s.catalogResult),
        LimitsChange: schema(s.limitsBody, 'input'),
        Limits: schema(s.limits),
        Error: schema(s.apiError),
      },
    },
  };
}

// Edge process entry (docker-compose, behind HAProxy): HTTP only. Needs
// EVENTLY_JWT_SECRET shared by every edge.
import { runProcess } from '../platform/process-main.js';
import { startEdge } from './server.js';

await runProcess('edge', startEdge);

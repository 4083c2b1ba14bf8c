import axios, { type AxiosInstance } from 'axios';
import type { ServiceNowConfig } from './config';

/** An axios instance for the ServiceNow instance, Basic or bearer auth. */
export function servicenowHttp(config: ServiceNowConfig, timeoutMs = 30_000): AxiosInstance {
  return axios.create({
    baseURL: config.url,
    timeout: timeoutMs,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
    },
    ...(config.token ? {} : { auth: { username: config.user!, password: config.password! } }),
  });
}

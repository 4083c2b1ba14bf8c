import { lambdaServices } from '@connectors/wiring/lambda';
import { lambdaTicketing } from '@connectors/wiring/ticketing';
import { DEFAULT_POLICY } from '@core/policy/policy';

describe('the Lambda wiring', () => {
  it('fails at start, naming the variable, when the table is not configured', () => {
    expect(() => lambdaServices({})).toThrow('CLOSELOOP_TABLE is required');
  });

  it('asks for what a function needs at its start: the deployment key and the ticketing secret', () => {
    const services = lambdaServices({ CLOSELOOP_TABLE: 'closeloop' });
    expect(() => services.deploymentKey()).toThrow('CLOSELOOP_DEPLOYMENT_KEY_SECRET is required');
    expect(() => lambdaTicketing(services)).toThrow('CLOSELOOP_TICKETING_SECRET is required');
  });

  it('reads the policy the stack passes, and fails at start when it is wrong, naming the field', () => {
    expect(lambdaServices({ CLOSELOOP_TABLE: 'closeloop' }).policy).toBe(DEFAULT_POLICY);
    expect(() =>
      lambdaServices({ CLOSELOOP_TABLE: 'closeloop', CLOSELOOP_POLICY: '{"slaDays":{"high":"soon"}}' }),
    ).toThrow(/^CLOSELOOP_POLICY: "slaDays.high"/);
  });
});

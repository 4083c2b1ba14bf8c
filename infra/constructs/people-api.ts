import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FINDING_ROUTES } from '../../connectors/api/routes';
import type { IdentitySettings } from '../../core/policy/identity';

export interface PeopleApiProps {
  /** The decisions function (the same one behind the IAM-authorised REST API). */
  readonly decisions: IFunction;
  /** The enterprise IdP: issuer, accepted audiences (the policy's `identity.oidc`). */
  readonly oidc: NonNullable<IdentitySettings['oidc']>;
  /** Requests per second across the API, and their burst. @default 20 per second, burst 40 */
  readonly throttle?: { rateLimit: number; burstLimit: number };
}

/**
 * The decisions API for people: the same routes and function as the IAM-authorised REST API, on
 * an HTTP API whose every route requires a JWT of the enterprise IdP (Entra ID, Okta, …). API
 * Gateway's JWT authorizer checks the signature against the issuer's published keys, the issuer,
 * the audience and the expiry before the function runs; the function takes the principal from the
 * policy's configured claim. A Lambda authorizer on the REST API was the alternative: it would put
 * JWT verification (keys, rotation, clock skew) in our code and a cold start in front of every
 * uncached call, for nothing the managed authorizer does not already do.
 */
export class PeopleApi extends Construct {
  readonly api: HttpApi;
  readonly url: string;

  constructor(scope: Construct, id: string, props: PeopleApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('IdentityProvider', props.oidc.issuer, {
      jwtAudience: props.oidc.audience,
    });
    this.api = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-people`,
      description: 'closeloop: findings and decisions for people (JWT of the enterprise identity provider)',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    // Payload 2.0 (the default): the function reads the token's claims at requestContext.authorizer.jwt.claims.
    const integration = new HttpLambdaIntegration('Decisions', props.decisions);
    for (const route of FINDING_ROUTES) {
      this.api.addRoutes({
        path: route.resource,
        methods: [route.method === 'GET' ? HttpMethod.GET : HttpMethod.POST],
        integration,
      });
    }
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // Who called (the token's issuer and subject) beside the request: the access log names people too.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            issuer: '$context.authorizer.claims.iss',
            subject: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    this.url = stage.url;
  }
}

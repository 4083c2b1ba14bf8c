import { z } from 'zod';

/** `POST /rest/api/3/issue/bulk` → CreatedIssues. */
export const CreatedIssuesSchema = z.object({
  issues: z.array(z.object({ id: z.string(), key: z.string(), self: z.string().optional() })).default([]),
  errors: z
    .array(
      z.object({
        failedElementNumber: z.number().int().nonnegative(),
        status: z.number().int().optional(),
        elementErrors: z
          .object({
            errorMessages: z.array(z.string()).default([]),
            errors: z.record(z.string(), z.string()).default({}),
          })
          .partial()
          .optional(),
      }),
    )
    .default([]),
});

/** `POST /rest/api/3/search/jql` → SearchAndReconcileResults (the fields we ask for). */
export const SearchResultsSchema = z.object({
  issues: z
    .array(
      z.object({
        id: z.string(),
        key: z.string(),
        fields: z
          .object({ labels: z.array(z.string()).default([]) })
          .partial()
          .default({}),
      }),
    )
    .default([]),
  nextPageToken: z.string().nullish(),
  isLast: z.boolean().optional(),
});

/** `GET /rest/api/3/user/search` → User[]. */
export const UsersSchema = z.array(
  z.object({
    accountId: z.string(),
    emailAddress: z.string().optional(),
    active: z.boolean().optional(),
    accountType: z.string().optional(),
  }),
);

const StatusCategory = z.object({ key: z.string() });

/** `GET /rest/api/3/issue/{key}/transitions` → Transitions. */
export const TransitionsSchema = z.object({
  transitions: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        to: z.object({ name: z.string().optional(), statusCategory: StatusCategory.optional() }).optional(),
      }),
    )
    .default([]),
});

/** `GET /rest/api/3/issue/{key}?fields=status,priority`. */
export const IssueStatusSchema = z.object({
  key: z.string(),
  fields: z.object({
    status: z.object({ name: z.string().optional(), statusCategory: StatusCategory.optional() }).optional(),
    priority: z.object({ name: z.string() }).nullish(),
  }),
});

/** `GET /rest/api/3/issue/{key}/comment?expand=properties` → PageOfComments. */
export const CommentPageSchema = z.object({
  comments: z
    .array(
      z.object({
        id: z.string(),
        properties: z.array(z.object({ key: z.string(), value: z.unknown() })).optional(),
        body: z.unknown().optional(),
      }),
    )
    .default([]),
  startAt: z.number().int().default(0),
  maxResults: z.number().int().default(0),
  total: z.number().int().default(0),
});

/** Jira's error body. */
export const ErrorCollectionSchema = z
  .object({ errorMessages: z.array(z.string()).default([]), errors: z.record(z.string(), z.string()).default({}) })
  .partial();

/** Inbound webhook (`jira:issue_updated`, `comment_created`): the parts closeloop acts on. */
export const JiraWebhookSchema = z.object({
  webhookEvent: z.string(),
  timestamp: z.number().optional(),
  user: z
    .object({
      accountId: z.string().optional(),
      displayName: z.string().optional(),
      emailAddress: z.string().optional(),
      name: z.string().optional(),
    })
    .partial()
    .optional(),
  issue: z.object({
    id: z.string().optional(),
    key: z.string(),
    fields: z
      .object({
        labels: z.array(z.string()).default([]),
        status: z
          .object({ name: z.string().optional(), statusCategory: z.object({ key: z.string() }).optional() })
          .optional(),
        resolution: z.object({ name: z.string() }).nullish(),
      })
      .partial()
      .default({}),
  }),
  changelog: z
    .object({
      items: z
        .array(
          z.object({
            field: z.string(),
            fieldId: z.string().optional(),
            fromString: z.string().nullish(),
            toString: z.string().nullish(),
          }),
        )
        .default([]),
    })
    .partial()
    .optional(),
  /** Present when a workflow post function sends the webhook: the transition taken. */
  transition: z
    .object({ transitionName: z.string(), from_status: z.string(), to_status: z.string() })
    .partial()
    .optional(),
  comment: z
    .object({
      id: z.string(),
      body: z.unknown().optional(),
      author: z
        .object({ accountId: z.string(), name: z.string(), displayName: z.string(), emailAddress: z.string() })
        .partial()
        .optional(),
    })
    .optional(),
});
export type JiraWebhook = z.infer<typeof JiraWebhookSchema>;

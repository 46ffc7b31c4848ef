using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// Binds every gRPC service (ours, health, reflection) as Grpc.AspNetCore's own binder does, with one change: a
/// request message that cannot be parsed (bytes that are not protobuf, a string field that is not UTF-8) is refused
/// as <c>INVALID_ARGUMENT</c> with the catalogue's <c>VALIDATION_ERROR</c> details. Grpc.AspNetCore parses the
/// message before any interceptor runs and answered a parse failure as <c>UNKNOWN</c>, "Exception was thrown by
/// handler.", as if the server had failed.
/// </summary>
/// <remarks>
/// Registered in place of Grpc.AspNetCore's <c>BinderServiceMethodProvider</c> (<see cref="GrpcSetup"/>), and doing
/// what it does, written out here because that provider is internal: find the generated <c>BindService</c> through
/// <see cref="BindServiceMethodAttribute"/>, bind each method to the service's public override of the generated base
/// method, and give the endpoint the service's and the method's attributes plus POST-only routing (with CORS
/// preflight). Unlike it, a service without the attribute (code generated before 2019) is not bound.
/// </remarks>
public sealed class CheckedServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind)
            {
                var method = bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, binder: null, [typeof(ServiceBinderBase), type], modifiers: null)
                    ?? throw new InvalidOperationException($"{bind.BindType} has no {bind.BindMethodName}(ServiceBinderBase, {type.Name})");
                method.Invoke(null, [new Binder(context, type), null]);
                return;
            }
        }
    }

    /// <summary>The request marshaller of <paramref name="method"/>, refusing what it cannot parse as the client's error.</summary>
    internal static Method<TRequest, TResponse> Checked<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var requests = method.RequestMarshaller;
        var checkedRequests = Marshallers.Create(requests.ContextualSerializer, context =>
        {
            try
            {
                return requests.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException)
            {
                // The message says only that it could not be read: the parser's text names protobuf internals.
                throw GrpcOperations.ToRpcException(Error.Validation("message", "The request message is not a valid protobuf message of this method's type"), requestId: null);
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, checkedRequests, method.ResponseMarshaller);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type generatedBase) : ServiceBinderBase
    {
        /// <summary>gRPC is POST only; preflight requests are left to the CORS middleware, as Grpc.AspNetCore does.</summary>
        private static readonly HttpMethodMetadata PostOnly = new(["POST"], acceptCorsPreflight: true);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(Checked(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(Checked(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(Checked(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(Checked(method), metadata, invoker);
        }

        /// <summary>
        /// The service's public override of the generated method <paramref name="name"/> (a same-named method that
        /// hides it rather than overriding it is skipped), and the endpoint metadata: the service's attributes, then
        /// the method's (which win), then POST-only routing.
        /// </summary>
        private (TDelegate Invoker, List<object> Metadata) Handler<TDelegate>(string name, params Type[] parameters)
            where TDelegate : Delegate
        {
            MethodInfo? method = null;
            for (var type = typeof(TService); type is not null && method is null; type = type.BaseType)
            {
                var candidate = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, binder: null, parameters, modifiers: null);
                if (candidate is null)
                {
                    break;
                }

                method = candidate.IsVirtual && candidate.GetBaseDefinition().DeclaringType == generatedBase ? candidate : null;
            }

            if (method is null)
            {
                throw new InvalidOperationException($"Could not find '{name}' on {typeof(TService)}.");
            }

            List<object> metadata = [.. typeof(TService).GetCustomAttributes(inherit: true), .. method.GetCustomAttributes(inherit: true), PostOnly];
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), method), metadata);
        }
    }
}
